/**
 * `npm run doctor -- --stage <stage>`: the deployed stack, as the operator's AWS credentials see
 * it. The stack and its outputs; the callback's SSM parameters (read here, since the URL check
 * signs with them); the DingTalk and WeCom checks run by the stack's doctor function from the
 * workers' network with the workers' parameters (which never leave AWS for this); the owner key
 * against the AppKey the workers use; the callback URL; the dead-letter queue, the schedule and
 * the latest reconcile report.
 */

import type { StageInspector } from '../aws/stage-inspector';
import { ConfigError, DEFAULT_MAX_SKEW_SECONDS, loadCallbackConfig } from '../config';
import type { RunReport } from '../ports';
import { callbackChecks } from './callback-check';
import { type CheckResult, check, type DoctorReport, doctorReport, errorLine } from './check';
import { type DeploymentStatus, deploymentChecks } from './deployment-checks';
import { ownerKeyCheck } from './dingtalk-checks';
import type { PlatformCheckOutcome } from './platform-checks';

export interface StageDoctorOptions {
  inspector: StageInspector;
  corpId?: string;
  /** A callback URL to check instead of the stack's CallbackUrl (a custom domain in front of it). */
  callbackUrl?: string;
  fetch?: typeof fetch;
}

const CALLBACK_SETTINGS = ['DINGTALK_TOKEN', 'DINGTALK_AES_KEY', 'DINGTALK_OWNER_KEY'] as const;

export async function stageDoctor(opts: StageDoctorOptions): Promise<DoctorReport> {
  const { inspector } = opts;
  const target = `stage ${inspector.stage} (stack ${inspector.stackName}, ${inspector.region})`;
  const regionFlag = inspector.region === 'ap-southeast-1' ? '' : ` --region ${inspector.region}`;
  const stack = check('settings', 'stack', 'stack deployed');
  let outputs: Record<string, string>;
  try {
    outputs = await inspector.outputs();
  } catch (e) {
    return doctorReport(target, [
      stack.fail(`no stack ${inspector.stackName} to read: ${errorLine(e)}`, `npx serverless deploy --stage ${inspector.stage}${regionFlag}`),
    ]);
  }
  const checks: CheckResult[] = [stack.pass(`outputs ${Object.keys(outputs).sort().join(', ')}`)];

  // The callback's settings: from its own SSM path, as the function reads them.
  const callbackEnv = await inspector.functionEnvironment('callback').catch(() => ({}) as Record<string, string>);
  const callbackPath = callbackEnv.SECRETS_SSM_PATH ?? `/dingtalk-wecom-sync/${inspector.stage}/callback`;
  const put = (name: string) => `aws ssm put-parameter --overwrite --type SecureString --name ${callbackPath}/${name} --value '…'${regionFlag}`;
  let callback: ReturnType<typeof loadCallbackConfig> | undefined;
  try {
    const params = await inspector.parameters(callbackPath, true);
    const missing = CALLBACK_SETTINGS.filter((n) => !params[n]);
    for (const name of missing) checks.push(check('settings', name, `${callbackPath}/${name} is set`).fail(`${name} is not in SSM`, put(name)));
    if (missing.length === 0) {
      callback = loadCallbackConfig({ ...params, CALLBACK_MAX_SKEW_SECONDS: callbackEnv.CALLBACK_MAX_SKEW_SECONDS });
      checks.push(
        check('settings', 'callback', `callback parameters (${callbackPath})`).pass('DINGTALK_TOKEN, DINGTALK_AES_KEY and DINGTALK_OWNER_KEY are set'),
      );
    }
  } catch (e) {
    if (e instanceof ConfigError) checks.push(check('settings', e.variable, `${e.variable} is valid`).fail(e.message, put(e.variable)));
    else
      checks.push(
        check('settings', 'callback', `callback parameters (${callbackPath})`).fail(
          `could not read them: ${errorLine(e)}`,
          'run the doctor with AWS credentials that may read and decrypt the stage’s SSM parameters',
        ),
      );
  }

  const platform = await doctorFunction(inspector, outputs, regionFlag);
  checks.push(...platform.checks);
  if (callback && platform.dingtalkAppKey) checks.push(ownerKeyCheck({ ownerKey: callback.ownerKey, appKey: platform.dingtalkAppKey, corpId: opts.corpId }));

  const url = opts.callbackUrl ?? outputs.CallbackUrl;
  if (!callback || !url) {
    checks.push(
      check('callback', 'check-url', 'callback answers DingTalk’s URL check').skip(
        callback ? 'the stack has no CallbackUrl output' : 'needs the callback parameters',
      ),
    );
  } else {
    const hint = `the callback reads ${callbackPath}; after changing a value there, restart it (README: Rotating secrets)`;
    checks.push(
      ...(await callbackChecks({
        url,
        ...callback,
        maxSkewSeconds: Number(callbackEnv.CALLBACK_MAX_SKEW_SECONDS ?? DEFAULT_MAX_SKEW_SECONDS),
        settingsHint: hint,
        fetch: opts.fetch,
      })),
    );
  }

  checks.push(...deploymentChecks(await deploymentStatus(inspector, outputs, regionFlag)));
  return doctorReport(target, checks);
}

/** The platform checks as the doctor function ran them, or one ✗ saying why it could not. */
async function doctorFunction(inspector: StageInspector, outputs: Record<string, string>, regionFlag: string): Promise<PlatformCheckOutcome> {
  const c = check('wecom', 'doctor-function', "doctor function (the workers' network)");
  let outcome: PlatformCheckOutcome;
  try {
    outcome = (await inspector.invoke('doctor', {})) as PlatformCheckOutcome;
    if (!Array.isArray(outcome?.checks)) throw new Error('it answered something other than check results');
  } catch (e) {
    const missing = e instanceof Error && e.name === 'ResourceNotFoundException';
    return {
      checks: [
        c.fail(
          `${inspector.functionName('doctor')} could not run the DingTalk and WeCom checks: ${errorLine(e)}`,
          missing
            ? `deploy this version, which adds it: npx serverless deploy --stage ${inspector.stage}${regionFlag}`
            : `its log (/aws/lambda/${inspector.functionName('doctor')}) says why; a missing or unreadable SSM parameter is the usual cause`,
        ),
      ],
    };
  }
  // Without a fixed egress IP the workers' address changes: no entry in 企业可信IP can keep up.
  if (!outputs.WeComTrustedIp) {
    outcome.checks = outcome.checks.map((r) =>
      r.id === 'wecom.trusted-ip' && r.status === 'fail'
        ? {
            ...r,
            fix: 'this stack has no fixed egress IP (fixedEgressIp: false): deploy with fixedEgressIp: true and add its WeComTrustedIp output to 企业可信IP, or point WECOM_API_BASE at a proxy with a fixed IP',
          }
        : r,
    );
  }
  return outcome;
}

async function deploymentStatus(inspector: StageInspector, outputs: Record<string, string>, regionFlag: string): Promise<DeploymentStatus> {
  const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));
  const missingOutput = (name: string) => new Error(`the stack has no ${name} output`);
  const deadLetters = outputs.DeadLetterQueueUrl ? await inspector.queueDepth(outputs.DeadLetterQueueUrl).catch(asError) : missingOutput('DeadLetterQueueUrl');
  const rule = await inspector.schedule().catch(asError);
  const schedule: DeploymentStatus['schedule'] =
    rule instanceof Error ? rule : !rule ? { state: 'missing' } : { state: rule.state === 'ENABLED' ? 'enabled' : 'disabled', expression: rule.expression };
  const latestReport: RunReport | undefined | Error = outputs.StateTableName
    ? await inspector.latestReport(outputs.StateTableName).catch(asError)
    : missingOutput('StateTableName');
  return {
    deadLetters,
    redriveHint: `AWS_REGION=${inspector.region} QUEUE_URL=${outputs.ChangeQueueUrl ?? '<ChangeQueueUrl>'} DLQ_URL=${outputs.DeadLetterQueueUrl ?? '<DeadLetterQueueUrl>'} npm run redrive`,
    schedule,
    latestReport,
    firstImportCommand: `npm run first-import -- --stage ${inspector.stage}${regionFlag}`,
  };
}
