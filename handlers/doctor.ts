/**
 * The doctor function: `npm run doctor -- --stage <stage>` invokes it to run the DingTalk and
 * WeCom checks (lib/doctor/platform-checks.ts) where the workers run, in their network and with
 * their SSM parameters. WeCom accepts contact-sync calls only from trusted IPs and answers 60020
 * naming the IP it saw, so only a call from the workers' own egress says whether their IP is in
 * 企业可信IP; DingTalk's optional server IP allow-list is judged the same way. Its role may read
 * the workers' SSM path and nothing else, and it writes nothing anywhere.
 */
import { environmentWithSecrets, resetSecretsCache } from '../lib/aws/ssm-secrets';
import { resetDingTalkTokenCache } from '../lib/dingtalk/api';
import { type PlatformCheckOutcome, platformChecks } from '../lib/doctor/platform-checks';
import { resetWeComTokenCache } from '../lib/wecom/api';

export async function handler(): Promise<PlatformCheckOutcome> {
  // Run by hand right after a fix: read the parameters as they are now, and ask for fresh tokens.
  resetSecretsCache();
  resetDingTalkTokenCache();
  resetWeComTokenCache();
  const env = await environmentWithSecrets();
  const path = env.SECRETS_SSM_PATH ?? '<the workers’ SSM path>';
  return platformChecks(env, {
    fixFor: (name) => `aws ssm put-parameter --overwrite --type SecureString --name ${path}/${name} --value '…'`,
    from: "from the workers' network (the doctor function)",
  });
}
