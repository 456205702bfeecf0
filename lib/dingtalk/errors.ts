/**
 * DingTalk errcodes, classified as design invariant 7 asks (platform/dingtalk.md §3).
 *
 * Pure: no I/O. The read client (lib/dingtalk/api.ts) throws every failure as a `PlatformError`
 * whose `failure` comes from `classifyDingTalkError`; callers that must tell "gone" apart from
 * other permanent failures use `isUserGone` / `isDeptGone` / `isOutOfScope`, not errmsg text.
 *
 * Codes that do not come from DingTalk's JSON, by the convention of lib/errors.ts:
 * - `-1`: network error, timeout, or an answer that is not JSON (DingTalk's per-IP ban answers
 *   so): try again later;
 * - `500`-`599`: the HTTP status of a 5xx answer;
 * - `ERRCODE_BAD_ANSWER` (-2): JSON that does not have the documented shape (e.g. an id beyond
 *   2^53); retrying the same read will not help.
 */
import { isPlatformError, type FailureClass, type PlatformError } from '../errors';

/** A JSON answer this client cannot use: missing fields, wrong types, ids beyond 2^53. */
export const ERRCODE_BAD_ANSWER = -2;

/** 40014 invalid access token, 42001 expired: drop the cached token, fetch once, retry once. */
export const DINGTALK_TOKEN_REJECTED: ReadonlySet<number> = new Set([40014, 42001]);

const RETRYABLE = new Set([
  -1, // system busy (also our code for network errors and timeouts)
  // A token rejected again right after a fresh one was fetched: DingTalk is inconsistent for a
  // moment (the client never loops on it; the queue retries later).
  40014, 42001,
]);

/**
 * Throttling: 90018 is the documented per-app-per-API limit (20 calls/s); DingTalk's other
 * rate-limit and temporary-ban answers share the 900xx range. All of them mean "wait".
 */
function isThrottled(errcode: number): boolean {
  return errcode >= 90001 && errcode <= 90099;
}

/** What the operator must fix, for each configuration errcode. */
const CONFIGURATION: ReadonlyMap<number, string> = new Map([
  [88, 'DingTalk refused the app (auth exception): check DINGTALK_APP_KEY / DINGTALK_APP_SECRET and the app\'s API permissions'],
  [40001, 'DINGTALK_APP_SECRET is wrong for DINGTALK_APP_KEY: copy both from the app\'s credentials page'],
  [40089, 'DINGTALK_APP_KEY or DINGTALK_APP_SECRET is invalid: copy both from the app\'s credentials page'],
  [43001, 'DingTalk saw the wrong HTTP method: check DINGTALK_API_BASE and any proxy in between'],
  [43002, 'DingTalk saw the wrong HTTP method: check DINGTALK_API_BASE and any proxy in between'],
  [43003, 'DingTalk requires HTTPS: check DINGTALK_API_BASE'],
  [60011, 'the app lacks the contact read permission (通讯录只读权限): grant it in the developer console'],
  [60020, 'the caller IP is not in the app\'s server egress IP allow-list: add it in the developer console'],
  [50002, 'the user is outside the app\'s visible scope: widen the app\'s contact scope (通讯录权限范围) if it should be synced'],
  [50004, 'the department is outside the app\'s visible scope: widen the app\'s contact scope (通讯录权限范围) if it should be synced'],
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
  return isDingTalkError(e) && (e.errcode === 60121 || e.errcode === 33012);
}

/** The department no longer exists (60003). */
export function isDeptGone(e: unknown): e is PlatformError {
  return isDingTalkError(e) && e.errcode === 60003;
}

/** The user (50002) or department (50004) exists but the app may not see it. */
export function isOutOfScope(e: unknown): e is PlatformError {
  return isDingTalkError(e) && (e.errcode === 50002 || e.errcode === 50004);
}

function isDingTalkError(e: unknown): e is PlatformError {
  // WeCom reuses some numbers with other meanings (its 60003 is a missing WeCom department).
  return isPlatformError(e) && e.platform === 'dingtalk';
}
