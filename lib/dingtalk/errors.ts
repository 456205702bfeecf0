/**
 * DingTalk errcodes, classified as retryable, permanent or configuration (see lib/errors.ts).
 *
 * Pure: no I/O. The read client (lib/dingtalk/api.ts) throws every failure as a `PlatformError`
 * whose `failure` comes from `classifyDingTalkError`; callers that must tell "gone" apart from
 * other permanent failures use `isUserGone` / `isDeptGone` / `isOutOfScope`, not errmsg text.
 *
 * Codes that do not come from DingTalk's JSON, by the convention of lib/errors.ts:
 * - `-1`: network error, timeout, or an answer that is not JSON (DingTalk's per-IP ban answers
 *   so): try again later;
 * - `500`-`599`: the HTTP status of a 5xx answer;
 * - `ERRCODE_BAD_ANSWER` (-2): an answer of the documented shape holding a value this client
 *   cannot represent (an id beyond 2^53); retrying the same read will not help;
 * - `ERRCODE_PROTOCOL` (-3): an HTTP 200 answer that is not of the documented shape (no errcode,
 *   not an object, a field missing or of the wrong type): retryable.
 */
import { ERRCODE_PROTOCOL, type FailureClass, isPlatformError, type PlatformError } from '../errors';

/** DingTalk's errcodes by name: production code and the simulator use these, never bare numbers. */
export const DINGTALK_ERR = {
  systemBusy: -1,
  invalidToken: 40014,
  /** Assumed: the code DingTalk answers for bad parameters in the topapi family. */
  invalidParam: 40035,
  badCredentials: 40089,
  expiredToken: 42001,
  requireGet: 43001,
  requirePost: 43002,
  userOutOfScope: 50002,
  deptOutOfScope: 50004,
  noContactPermission: 60011,
  untrustedIp: 60020,
  authException: 88,
  badSecret: 40001,
  httpsRequired: 43003,
  deptNotFound: 60003,
  /** What real clients see for a missing user; the documentation says 33012. */
  userNotFound: 60121,
  userNotFoundDocumented: 33012,
  rateLimited: 90018,
} as const;

/** An answer this client cannot use although it has the documented shape: ids beyond 2^53. */
export const ERRCODE_BAD_ANSWER = -2;

/** 40014 invalid access token, 42001 expired: drop the cached token, fetch once, retry once. */
export const DINGTALK_TOKEN_REJECTED: ReadonlySet<number> = new Set([DINGTALK_ERR.invalidToken, DINGTALK_ERR.expiredToken]);

const RETRYABLE: ReadonlySet<number> = new Set<number>([
  DINGTALK_ERR.systemBusy, // system busy (also our code for network errors and timeouts)
  // A token rejected again right after a fresh one was fetched: DingTalk is inconsistent for a
  // moment (the client never loops on it; the queue retries later).
  DINGTALK_ERR.invalidToken,
  DINGTALK_ERR.expiredToken,
  // DingTalk always answers its documented shape: a proxy or gateway in between did not, this time.
  ERRCODE_PROTOCOL,
]);

/**
 * Throttling: 90018 is the documented per-app-per-API limit (20 calls/s); DingTalk's other
 * rate-limit and temporary-ban answers share the 900xx range. All of them mean "wait".
 */
export function isThrottled(errcode: number): boolean {
  return errcode >= 90001 && errcode <= 90099;
}

/** What the operator must fix, for each configuration errcode. */
const CONFIGURATION: ReadonlyMap<number, string> = new Map<number, string>([
  [DINGTALK_ERR.authException, "DingTalk refused the app (auth exception): check DINGTALK_APP_KEY / DINGTALK_APP_SECRET and the app's API permissions"],
  [DINGTALK_ERR.badSecret, "DINGTALK_APP_SECRET is wrong for DINGTALK_APP_KEY: copy both from the app's credentials page"],
  [DINGTALK_ERR.badCredentials, "DINGTALK_APP_KEY or DINGTALK_APP_SECRET is invalid: copy both from the app's credentials page"],
  [DINGTALK_ERR.requireGet, 'DingTalk saw the wrong HTTP method: check DINGTALK_API_BASE and any proxy in between'],
  [DINGTALK_ERR.requirePost, 'DingTalk saw the wrong HTTP method: check DINGTALK_API_BASE and any proxy in between'],
  [DINGTALK_ERR.httpsRequired, 'DingTalk requires HTTPS: check DINGTALK_API_BASE'],
  [DINGTALK_ERR.noContactPermission, 'the app lacks the contact read permission (通讯录只读权限): grant it in the developer console'],
  [DINGTALK_ERR.untrustedIp, "the caller IP is not in the app's server egress IP allow-list: add it in the developer console"],
  [DINGTALK_ERR.userOutOfScope, "the user is outside the app's visible scope: widen the app's contact scope (通讯录权限范围) if it should be synced"],
  [DINGTALK_ERR.deptOutOfScope, "the department is outside the app's visible scope: widen the app's contact scope (通讯录权限范围) if it should be synced"],
]);

export function classifyDingTalkError(errcode: number): FailureClass {
  if (RETRYABLE.has(errcode) || isThrottled(errcode) || (errcode >= 500 && errcode <= 599)) return 'retryable';
  if (CONFIGURATION.has(errcode)) return 'configuration';
  // Everything else is about the entity asked for (60121 user not found, 60003 department not
  // found, 40035 bad parameter, …): asking again will not change the answer.
  return 'permanent';
}

/** One line telling the operator what to fix, for configuration errcodes; undefined otherwise. */
export function describeDingTalkConfigError(errcode: number): string | undefined {
  return CONFIGURATION.get(errcode);
}

/** The user no longer exists: docs say 33012, real code checks 60121; both mean "left". */
export function isUserGone(e: unknown): e is PlatformError {
  return isDingTalkError(e) && (e.errcode === DINGTALK_ERR.userNotFound || e.errcode === DINGTALK_ERR.userNotFoundDocumented);
}

/** The department no longer exists (60003). */
export function isDeptGone(e: unknown): e is PlatformError {
  return isDingTalkError(e) && e.errcode === DINGTALK_ERR.deptNotFound;
}

/** The user (50002) or department (50004) exists but the app may not see it. */
export function isOutOfScope(e: unknown): e is PlatformError {
  return isDingTalkError(e) && (e.errcode === DINGTALK_ERR.userOutOfScope || e.errcode === DINGTALK_ERR.deptOutOfScope);
}

function isDingTalkError(e: unknown): e is PlatformError {
  // WeCom reuses some numbers with other meanings (its 60003 is a missing WeCom department).
  return isPlatformError(e) && e.platform === 'dingtalk';
}
