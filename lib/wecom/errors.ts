/**
 * WeCom errcodes, classified as retryable, permanent or configuration (see lib/errors.ts).
 *
 * Pure: no I/O. The write client (lib/wecom/api.ts) throws every failure as a `PlatformError`
 * whose `failure` comes from `classifyWeComError`.
 *
 * Codes that do not come from WeCom's JSON, by the convention of lib/errors.ts:
 * - `-1`: network error, timeout, or an answer that is not JSON: try again later (WeCom's own
 *   -1 means "system busy", which calls for the same treatment);
 * - `500`-`599`: the HTTP status of a 5xx answer (WeCom has no errcodes in that range);
 * - `ERRCODE_PROTOCOL` (-3): an HTTP 200 answer that is not of the documented shape (no errcode,
 *   not an object, a write's answer without its documented field): retryable.
 */
import { ERRCODE_PROTOCOL, type FailureClass } from '../errors';

/** WeCom's errcodes by name: production code and the simulator use these, never bare numbers. */
export const WECOM_ERR = {
  systemBusy: -1,
  dataVersionConflict: 6000,
  badSecret: 40001,
  invalidUserid: 40003,
  invalidCorpId: 40013,
  invalidToken: 40014,
  invalidParam: 40058,
  missingToken: 41001,
  expiredToken: 42001,
  requireGet: 43001,
  requirePost: 43002,
  rateLimited: 45009,
  tooManyConcurrent: 45033,
  accountLimit: 45024,
  userNotFound: 46004,
  badJson: 47001,
  apiForbidden: 48002,
  detailReadForbidden: 48009,
  deptNotFound: 60003,
  parentNotFound: 60004,
  deptHasMembers: 60005,
  deptHasChildren: 60006,
  rootDept: 60007,
  deptExists: 60008,
  deptNameIllegalChars: 60009,
  deptCircular: 60010,
  noPrivilege: 60011,
  untrustedIp: 60020,
  useridExists: 60102,
  badMobile: 60103,
  mobileExists: 60104,
  badEmail: 60105,
  emailExists: 60106,
  tooManyDepts: 60110,
  useridNotFound: 60111,
  badName: 60112,
  invalidDeptId: 60123,
  invalidParentId: 60124,
  badDeptName: 60125,
  mobileAndEmailEmpty: 60129,
  leaderLengthMismatch: 60132,
  tooManyChildren: 81001,
  tooDeep: 81002,
} as const;

/** 40014 invalid access token, 42001 expired: drop the cached token, fetch once, retry once. */
export const WECOM_TOKEN_REJECTED: ReadonlySet<number> = new Set([WECOM_ERR.invalidToken, WECOM_ERR.expiredToken]);

/** 45009 frequency limit (10,000 calls/min per API per company), 45033 too many concurrent calls: both pass by waiting. */
export const WECOM_THROTTLES: ReadonlySet<number> = new Set([WECOM_ERR.rateLimited, WECOM_ERR.tooManyConcurrent]);

const RETRYABLE: ReadonlySet<number> = new Set<number>([
  WECOM_ERR.systemBusy, // system busy; also network errors and timeouts
  WECOM_ERR.rateLimited, // frequency limit (10,000 calls/min per API per company)
  WECOM_ERR.tooManyConcurrent, // too many concurrent calls
  WECOM_ERR.dataVersionConflict, // data version conflict
  // A token rejected again right after a fresh one was fetched: WeCom's tokens "may expire
  // early"; the client never loops on it, the queue retries later.
  WECOM_ERR.invalidToken,
  WECOM_ERR.expiredToken,
  // WeCom always answers its documented shape: a proxy or gateway in between did not, this time.
  ERRCODE_PROTOCOL,
]);

/**
 * Configuration errors and what the operator must change. 60020 gets its caller IP filled in
 * by `describeWeComConfigError`.
 */
const CONFIGURATION: ReadonlyMap<number, string> = new Map<number, string>([
  [WECOM_ERR.untrustedIp, "add the sync's egress IP (the NAT gateway's Elastic IP) to WeCom's trusted IPs (企业可信IP) of the contact-sync tool"],
  [WECOM_ERR.badSecret, 'WECOM_CONTACT_SECRET is wrong: copy the secret from WeCom admin → 管理工具 → 通讯录同步'],
  [WECOM_ERR.invalidCorpId, 'WECOM_CORP_ID is not a valid corp id: copy it from WeCom admin → 我的企业 → 企业信息'],
  [WECOM_ERR.missingToken, 'the access token is missing from the request: a proxy in front of WECOM_API_BASE may drop query strings'],
  [WECOM_ERR.apiForbidden, 'this secret may not edit contacts: use the contact-sync secret and enable 通讯录同步 → API编辑通讯录'],
  [WECOM_ERR.noPrivilege, 'no permission for this contact: use the contact-sync secret (an app secret cannot write contacts)'],
  [
    WECOM_ERR.detailReadForbidden,
    'the contact-sync secret may not read contact details from this IP (WeCom rule of 2022-08-15): the sync must only use id lists',
  ],
  [WECOM_ERR.accountLimit, 'the WeCom account limit is reached: add seats or remove members in WeCom'],
]);

/**
 * Retryable, configuration, or (everything else) permanent: a problem with this entity's data
 * (60104 mobile taken, 60112 bad name, 60129 neither mobile nor email, …) that the same call
 * will keep hitting until the entity changes.
 *
 * A department that still has members (60005) or children (60006) is permanent here: whether
 * waiting helps depends on what is left inside, which only the department's removal can tell
 * (lib/sync/dept-removal.ts): it empties what the sync owns and records the rest as blocking.
 */
export function classifyWeComError(errcode: number): FailureClass {
  if (RETRYABLE.has(errcode) || (errcode >= 500 && errcode <= 599)) return 'retryable';
  if (CONFIGURATION.has(errcode)) return 'configuration';
  return 'permanent';
}

/**
 * The caller's IP as WeCom states it in a 60020 errmsg
 * (`not allow to access from your ip, hint: [...], from ip: 203.0.113.7, more info at ...`).
 */
export function callerIpFrom60020(errmsg: string): string | undefined {
  const m = /from ip:\s*([0-9A-Fa-f:.]*[0-9A-Fa-f])/i.exec(errmsg);
  return m?.[1];
}

/** One line telling the operator what to fix, for configuration errcodes; undefined otherwise. */
export function describeWeComConfigError(errcode: number, errmsg = ''): string | undefined {
  if (errcode === WECOM_ERR.untrustedIp) {
    const ip = callerIpFrom60020(errmsg);
    if (ip) {
      return `add the caller IP ${ip} to WeCom's trusted IPs (企业可信IP) of the contact-sync tool; it should be the NAT gateway's Elastic IP`;
    }
  }
  return CONFIGURATION.get(errcode);
}
