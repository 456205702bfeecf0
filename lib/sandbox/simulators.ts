/**
 * Both simulators started on loopback with the sandbox credentials, and the environment that
 * points the service at them: the one way `npm start`, `npm run reconcile -- --sandbox`, the
 * benchmarks and the tests bring the sandbox up.
 */
import { DingTalkSimulator, type DingTalkSimulatorOptions } from './dingtalk-sim';
import { SANDBOX_ENV, seedSandboxOrg } from './seed';
import { WeComSimulator, type WeComSimulatorOptions } from './wecom-sim';

export interface Simulators {
  dingtalk: DingTalkSimulator;
  wecom: WeComSimulator;
  /** SANDBOX_ENV plus DINGTALK_API_BASE and WECOM_API_BASE of the running simulators. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface SimulatorsOptions {
  dingtalk?: Omit<DingTalkSimulatorOptions, 'appKey' | 'appSecret' | 'corpId'>;
  wecom?: Omit<WeComSimulatorOptions, 'corpId' | 'contactSecret'>;
  /** Seed the small sandbox organisation (default true). */
  seed?: boolean;
}

export async function startSimulators(opts: SimulatorsOptions = {}): Promise<Simulators> {
  const dingtalk = new DingTalkSimulator({
    appKey: SANDBOX_ENV.DINGTALK_APP_KEY,
    appSecret: SANDBOX_ENV.DINGTALK_APP_SECRET,
    corpId: SANDBOX_ENV.SANDBOX_CORP_ID,
    ...opts.dingtalk,
  });
  const wecom = new WeComSimulator({ corpId: SANDBOX_ENV.WECOM_CORP_ID, contactSecret: SANDBOX_ENV.WECOM_CONTACT_SECRET, ...opts.wecom });
  if (opts.seed !== false) seedSandboxOrg(dingtalk);
  const env = { ...SANDBOX_ENV, DINGTALK_API_BASE: await dingtalk.start(0), WECOM_API_BASE: await wecom.start(0) };
  return { dingtalk, wecom, env, stop: () => Promise.all([dingtalk.stop(), wecom.stop()]).then(() => undefined) };
}
