/**
 * The doctor's WeCom checks, from one probe: gettoken with WECOM_CORP_ID and
 * WECOM_CONTACT_SECRET, then one row of `user/list_id`, which only the contact-sync secret may
 * list, and only from a trusted IP. So one call tells the three things that go wrong on day one:
 * a wrong corp id or secret (40013 / 40001), an app's secret instead of the contact-sync one
 * (48002 / 60011), and an IP missing from 企业可信IP (60020, naming the IP WeCom saw).
 *
 * Where the probe runs matters for the last one: from the workers' network (the doctor function
 * of a deployed stack) or from this machine (where `npm start`'s worker runs).
 */
import { isPlatformError } from '../errors';
import { callerIpFrom60020, describeWeComConfigError, WECOM_ERR } from '../wecom/errors';
import { type CheckResult, check, errorLine } from './check';

const SYNC_PAGE = 'WeCom admin console → 管理工具 → 通讯录同步';

export interface WeComCheckInput {
  wecom: { probeContactSync(): Promise<void> };
  /** Where the probe runs, as the IP check should say it: `from this machine`, `from the workers' network`. */
  from: string;
  apiBase: string;
}

const TITLES = {
  'contact-secret': 'the secret is the contact-sync one (user/list_id)',
  'trusted-ip': 'WeCom trusts the caller IP (企业可信IP)',
} as const;
const credentials = check('wecom', 'credentials', 'WeCom corp id and secret (gettoken)');
const contactSecret = check('wecom', 'contact-secret', TITLES['contact-secret']);
const trustedIp = check('wecom', 'trusted-ip', TITLES['trusted-ip']);

export async function wecomChecks(input: WeComCheckInput): Promise<CheckResult[]> {
  try {
    await input.wecom.probeContactSync();
  } catch (e) {
    if (!isPlatformError(e)) throw e;
    if (e.api === 'gettoken') {
      return [credentials.fail(`gettoken failed: ${e.message}`, tokenFix(e.errcode, input.apiBase)), skipped('contact-secret'), skipped('trusted-ip')];
    }
    const ok = credentials.pass('gettoken accepted WECOM_CORP_ID and WECOM_CONTACT_SECRET');
    if (e.errcode === WECOM_ERR.untrustedIp) {
      const ip = callerIpFrom60020(e.errmsg);
      return [
        ok,
        contactSecret.skip('WeCom refused the caller IP before it would tell which secret this is'),
        trustedIp.fail(
          `user/list_id ${input.from} answered 60020: WeCom does not trust ${ip ? `the IP it saw, ${ip}` : 'the caller IP'}`,
          `add ${ip ?? "the workers' egress IP (stack output WeComTrustedIp)"} to 企业可信IP in ${SYNC_PAGE} (it takes about a minute), then run the doctor again`,
        ),
      ];
    }
    if (e.errcode === WECOM_ERR.apiForbidden || e.errcode === WECOM_ERR.noPrivilege) {
      return [
        ok,
        contactSecret.fail(
          `user/list_id answered ${e.errcode}: WECOM_CONTACT_SECRET is not the contact-sync secret (an app's secret may not list or write contacts)`,
          `in ${SYNC_PAGE}, enable API编辑通讯录 and use that page's Secret as WECOM_CONTACT_SECRET`,
        ),
        trustedIp.pass(`WeCom did not refuse the caller IP ${input.from} (no 60020)`),
      ];
    }
    return [
      ok,
      contactSecret.fail(
        `user/list_id failed: ${errorLine(e)}`,
        describeWeComConfigError(e.errcode, e.errmsg) ?? 'run the doctor again; if it persists, the message names the cause',
      ),
      skipped('trusted-ip', 'needs user/list_id to answer first'),
    ];
  }
  return [
    credentials.pass('gettoken accepted WECOM_CORP_ID and WECOM_CONTACT_SECRET'),
    contactSecret.pass('user/list_id answered: this is the contact-sync secret, which may write contacts'),
    trustedIp.pass(`WeCom accepted contact-sync calls ${input.from}`),
  ];
}

function skipped(name: keyof typeof TITLES, why = 'needs a working WeCom token first'): CheckResult {
  return check('wecom', name, TITLES[name]).skip(why);
}

function tokenFix(errcode: number, apiBase: string): string {
  if (errcode === -1 || (errcode >= 500 && errcode <= 599)) return `nothing usable answered at ${apiBase}: check WECOM_API_BASE and the network's access to it`;
  return describeWeComConfigError(errcode) ?? `copy the corp id (我的企业 → 企业信息) and the Secret of ${SYNC_PAGE}`;
}
