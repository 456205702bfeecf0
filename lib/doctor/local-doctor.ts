/**
 * `npm run doctor` without `--stage`: the settings of the environment, checked from this machine,
 * and the `npm start` that runs with them, if any (its callback, queue and latest reconcile,
 * through its control routes). With no platform credentials set and a sandbox `npm start`
 * running, the sandbox's settings are used; a variable set in the environment still wins, so a
 * wrong value can be tried against the simulators.
 */
import { ConfigError, loadCallbackConfig } from '../config';
import type { LocalStatus } from '../local/control';
import { LocalControl } from '../local/control-client';
import { callbackChecks } from './callback-check';
import { type CheckResult, check, type DoctorReport, doctorReport } from './check';
import { deploymentChecks } from './deployment-checks';
import { ownerKeyCheck } from './dingtalk-checks';
import { platformChecks } from './platform-checks';

type Env = Record<string, string | undefined>;

export interface LocalDoctorOptions {
  env: Env;
  /** The company's CorpId, for an owner key taken from `register_call_back`. */
  corpId?: string;
  /** A callback URL to check instead of `npm start`'s. */
  callbackUrl?: string;
  timeoutMs?: number;
}

const FROM_HERE = "from this machine (where npm start's worker calls from)";

export async function localDoctor(opts: LocalDoctorOptions): Promise<DoctorReport> {
  const found = await LocalControl.find(opts.env);
  const status = found?.status;
  const env: Env = { ...status?.settings, ...definedOnly(opts.env) };
  const fixFor = (name: string) =>
    `set ${name} in the environment (README: Configuration)${status ? '' : ', or run npm start with no credentials at all to try the sandbox'}`;

  const platform = await platformChecks(env, { fixFor, from: FROM_HERE, timeoutMs: opts.timeoutMs });
  const checks: CheckResult[] = [...platform.checks];

  let callback: ReturnType<typeof loadCallbackConfig> | undefined;
  try {
    callback = loadCallbackConfig(env);
    checks.push(check('settings', 'callback', 'callback settings').pass('DINGTALK_TOKEN, DINGTALK_AES_KEY and the owner key are set'));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    checks.push(check('settings', e.variable, `${e.variable} is valid`).fail(e.message, fixFor(e.variable)));
  }
  if (callback && platform.dingtalkAppKey) {
    checks.push(ownerKeyCheck({ ownerKey: callback.ownerKey, appKey: platform.dingtalkAppKey, corpId: opts.corpId }));
  }

  const url = opts.callbackUrl ?? status?.callbackUrl;
  if (!callback) {
    checks.push(check('callback', 'check-url', 'callback answers DingTalk’s URL check').skip('needs the callback settings'));
  } else if (!url) {
    checks.push(
      check('callback', 'check-url', 'callback answers DingTalk’s URL check').skip('npm start is not running here; start it, or give --callback-url <url>'),
    );
  } else {
    const maxSkewSeconds = opts.callbackUrl === undefined && status ? status.maxSkewSeconds : callback.maxSkewSeconds;
    checks.push(...(await callbackChecks({ url, ...callback, maxSkewSeconds, settingsHint: 'npm start and the doctor must see the same DINGTALK_* values' })));
  }

  checks.push(...localDeployment(status));
  const target = status ? `npm start${status.sandbox ? ' (sandbox)' : ''}, callback ${status.callbackUrl}` : 'the environment (npm start is not running)';
  return doctorReport(target, checks);
}

function localDeployment(status: LocalStatus | undefined): CheckResult[] {
  if (!status) return [check('queue', 'all', 'queue and reconcile').skip('npm start is not running here (or uses another STATE_FILE)')];
  if (!status.queue) {
    return [check('queue', 'all', 'queue and reconcile').skip('npm start sends changes to SQS (QUEUE_URL): check the deployed stack with --stage')];
  }
  return deploymentChecks({
    deadLetters: status.queue.deadLetters,
    redriveHint: 'restart npm start (its queue is in memory) and run npm run first-import to bring everything in step',
    schedule: { state: 'local' },
    latestReport: status.latestReport,
    firstImportCommand: 'npm run first-import',
  });
}

function definedOnly(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}
