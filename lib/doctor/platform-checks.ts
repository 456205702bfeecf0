/**
 * The checks that talk to DingTalk and WeCom with the workers' settings: the settings themselves,
 * then the DingTalk and WeCom checks. `npm run doctor` runs them from this machine with the
 * environment; on a deployed stack the doctor function runs them from the workers' network with
 * the workers' SSM parameters (handlers/doctor.ts), since WeCom judges the caller's IP.
 */
import { ConfigError, loadSyncConfig } from '../config';
import { DingTalkApi } from '../dingtalk/api';
import { createMemoryLogger } from '../log';
import { WeComApi } from '../wecom/api';
import { type CheckResult, check } from './check';
import { dingtalkChecks } from './dingtalk-checks';
import { wecomChecks } from './wecom-checks';

type Env = Record<string, string | undefined>;

const DINGTALK_CREDENTIALS = ['DINGTALK_APP_KEY', 'DINGTALK_APP_SECRET'] as const;
const WECOM_CREDENTIALS = ['WECOM_CORP_ID', 'WECOM_CONTACT_SECRET'] as const;

export interface PlatformCheckOptions {
  /** How to set a variable, as the place the settings come from needs it (`set …`, an `aws ssm put-parameter` line). */
  fixFor(variable: string): string;
  /** Where the calls leave from, as the trusted-IP check says it. */
  from: string;
  /** Per-call HTTP timeout. */
  timeoutMs?: number;
}

export interface PlatformCheckOutcome {
  checks: CheckResult[];
  /** The AppKey in use (not a secret): the owner-key check compares the callback's key with it. */
  dingtalkAppKey?: string;
}

export async function platformChecks(env: Env, opts: PlatformCheckOptions): Promise<PlatformCheckOutcome> {
  const checks: CheckResult[] = [];
  const missing = [...DINGTALK_CREDENTIALS, ...WECOM_CREDENTIALS].filter((name) => !env[name]);
  for (const name of missing) checks.push(check('settings', name, `${name} is set`).fail(`${name} is not set`, opts.fixFor(name)));

  // The other settings (scope, API bases, policies) are validated as the workers load them.
  const placeholders = Object.fromEntries(missing.map((name) => [name, 'missing']));
  let config: ReturnType<typeof loadSyncConfig>;
  try {
    config = loadSyncConfig({ ...env, ...placeholders });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    checks.push(check('settings', e.variable, `${e.variable} is valid`).fail(e.message, opts.fixFor(e.variable)));
    return {
      checks: [...checks, check('dingtalk', 'all', 'DingTalk').skip('needs valid settings'), check('wecom', 'all', 'WeCom').skip('needs valid settings')],
    };
  }
  if (missing.length === 0) {
    checks.push(
      check('settings', 'worker', 'worker settings').pass(
        `all set; scope SYNC_ROOT_DEPT_IDS ${config.rootDeptIds.join(',')}${config.excludeDeptIds.length ? ` minus ${config.excludeDeptIds.join(',')}` : ''}, leavers ${config.onLeave}`,
      ),
    );
  }

  // Quiet clients: every failure comes back in a check, not as a log line in the middle of the output.
  const common = { timeoutMs: opts.timeoutMs, logger: createMemoryLogger() };
  if (DINGTALK_CREDENTIALS.some((n) => missing.includes(n))) {
    checks.push(check('dingtalk', 'all', 'DingTalk').skip('needs DINGTALK_APP_KEY and DINGTALK_APP_SECRET'));
  } else {
    const dingtalk = new DingTalkApi({ appKey: config.dingtalkAppKey, appSecret: config.dingtalkAppSecret, baseUrl: config.dingtalkApiBase, ...common });
    checks.push(...(await dingtalkChecks({ dingtalk, rootDeptIds: config.rootDeptIds, apiBase: config.dingtalkApiBase })));
  }
  if (WECOM_CREDENTIALS.some((n) => missing.includes(n))) {
    checks.push(check('wecom', 'all', 'WeCom').skip('needs WECOM_CORP_ID and WECOM_CONTACT_SECRET'));
  } else {
    const wecom = new WeComApi({ corpId: config.wecomCorpId, secret: config.wecomContactSecret, baseUrl: config.wecomApiBase, ...common });
    checks.push(...(await wecomChecks({ wecom, from: opts.from, apiBase: config.wecomApiBase })));
  }
  return { checks, dingtalkAppKey: env.DINGTALK_APP_KEY || undefined };
}
