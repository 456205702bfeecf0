/**
 * DingTalk read client: the users and departments the sync follows, and the failed-push list
 * the reconcile sweeps. It only reads: the sync never writes to DingTalk.
 *
 * - Node's global fetch, one timeout per HTTP request (`AbortSignal.timeout`).
 * - The base URL is the API origin (`DINGTALK_API_BASE`); a trailing slash is ignored.
 * - The access token is cached at module level per app credential, so warm Lambda invocations
 *   and several instances share it; it is refreshed before it expires, concurrent callers share
 *   one `gettoken`, and a token DingTalk rejects (40014/42001) is replaced once and the call
 *   retried once.
 * - Calls are paced per API by the process's budget (lib/rate-budget.ts); one DingTalk throttles
 *   (90018, 20 calls/s per API for the whole app) is made again after a second, while the
 *   invocation has time (lib/invocation-deadline.ts).
 * - Every answer's errcode is checked; every failure is a `PlatformError` classified by
 *   `classifyDingTalkError` (network/timeout/non-JSON → -1, HTTP 5xx → the status).
 * - Answers are parsed losslessly and checked against their documented shapes (./answers.ts):
 *   one without an errcode or not of the documented shape is a retryable protocol error (-3);
 *   an id beyond 2^53 is a permanent -2.
 * - The access token and app secret never appear in errors or logs.
 */
import { PlatformError } from '../errors';
import { type AnswerError, answerError, type PlatformClientOptions, PlatformHttp, type PlatformProfile, protocolError } from '../platform-http';
import type { DingTalkDept, DingTalkDirectory, DingTalkUser, DingTalkUserPage, FailedPushPage } from '../ports';
import { TokenCache } from '../token-cache';
import {
  deptAnswer,
  failedPushesAnswer,
  parseAnswer,
  ShapeError,
  subDeptsAnswer,
  UnsafeIntegerError,
  userAnswer,
  userIdsAnswer,
  userPageAnswer,
} from './answers';
import { classifyDingTalkError, DINGTALK_ERR, DINGTALK_TOKEN_REJECTED, describeDingTalkConfigError, ERRCODE_BAD_ANSWER, isDingTalkThrottle } from './errors';

/** The app credential (app key and secret of an internal app) and where DingTalk's API is. */
export interface DingTalkApiOptions extends PlatformClientOptions {
  appKey: string;
  appSecret: string;
  /** Origin of the server API, e.g. `https://oapi.dingtalk.com` (or a proxy, or the sandbox). */
  baseUrl: string;
}

const BANNED_OR_THROTTLED = 'throttled or the caller IP is banned for a while';

const DINGTALK: PlatformProfile = {
  platform: 'dingtalk',
  classify: classifyDingTalkError,
  token: { idParam: 'appkey', secretParam: 'appsecret', rejected: DINGTALK_TOKEN_REJECTED },
  parse: parseAnswer,
  errorOf,
  describeConfigError: describeDingTalkConfigError,
  // Out-of-scope answers are expected now and then (events fire for users the app cannot see),
  // so they are not logged as loudly as a broken credential.
  quietConfigErrors: new Set([DINGTALK_ERR.userOutOfScope, DINGTALK_ERR.deptOutOfScope]),
  // Throttling, or (unconfirmed) the per-IP ban's status: both pass if we wait.
  throttleStatuses: new Map([
    [429, `HTTP 429: ${BANNED_OR_THROTTLED}`],
    [403, `HTTP 403: ${BANNED_OR_THROTTLED}`],
  ]),
  // 90018 (20 calls/s per API for the whole app): DingTalk says wait a second. The jitter keeps
  // the workers it refused at the same moment from coming back at the same moment.
  isThrottle: isDingTalkThrottle,
  throttleDelaysMs: Array.from({ length: 30 }, () => 1000 + Math.floor(Math.random() * 250)),
  baseUrlSetting: 'DINGTALK_API_BASE',
  // DingTalk's 5-minute ban after 10,000 calls per 20 s from one IP answers with a page, not
  // JSON: waiting is the cure.
  notJsonHint: 'DingTalk answers so while it bans the caller IP for too many calls',
};

// Shared by every instance in this module, i.e. across warm Lambda invocations.
const tokens = new TokenCache();

/** Forget every cached DingTalk token (and held gettoken failure): for tests and the doctor function. */
export function resetDingTalkTokenCache(): void {
  tokens.clear();
}

// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

/** The DingTalk directory over DingTalk's server API, for one app credential. */
export class DingTalkApi implements DingTalkDirectory {
  /** HTTP requests made by this instance, per API path (gettoken included): for benchmarks. */
  readonly calls: Record<string, number>;

  private readonly http: PlatformHttp;

  constructor(opts: DingTalkApiOptions) {
    const { appKey, appSecret, ...rest } = opts;
    this.http = new PlatformHttp(DINGTALK, tokens, { ...rest, credentialId: appKey, secret: appSecret });
    this.calls = this.http.calls;
  }

  getUser(userid: string): Promise<DingTalkUser> {
    return this.read('topapi/v2/user/get', 'POST', { userid, language: 'zh_CN' }, userAnswer);
  }

  getDept(deptId: number): Promise<DingTalkDept> {
    return this.read('topapi/v2/department/get', 'POST', { dept_id: deptId }, deptAnswer);
  }

  listSubDepts(deptId: number): Promise<DingTalkDept[]> {
    return this.read('topapi/v2/department/listsub', 'POST', { dept_id: deptId }, subDeptsAnswer);
  }

  listUsers(deptId: number, cursor: number, size: number): Promise<DingTalkUserPage> {
    return this.read('topapi/v2/user/list', 'POST', { dept_id: deptId, cursor, size }, (a) => userPageAnswer(a, deptId));
  }

  listUserIds(deptId: number): Promise<string[]> {
    return this.read('topapi/user/listid', 'POST', { dept_id: deptId }, userIdsAnswer);
  }

  /**
   * One page of failed pushes. DingTalk forgets a page once it has returned it, so this method
   * never throws over one odd record after a successful answer: it keeps what it can read.
   */
  getFailedPushes(): Promise<FailedPushPage> {
    return this.read('call_back/get_call_back_failed_result', 'GET', undefined, failedPushesAnswer);
  }

  // -------------------------------------------------------------------------------------------

  /** Calls an API, then maps the answer to the port's shape. */
  private async read<T>(api: string, method: 'GET' | 'POST', body: Obj | undefined, map: (a: Obj) => T): Promise<T> {
    const answer = await this.http.call(api, method, { body });
    try {
      return map(answer);
    } catch (e) {
      if (e instanceof UnsafeIntegerError) {
        throw new PlatformError('dingtalk', api, ERRCODE_BAD_ANSWER, `unusable answer: ${e.message}`, classifyDingTalkError(ERRCODE_BAD_ANSWER));
      }
      if (e instanceof ShapeError) throw protocolError(DINGTALK, api, e.message);
      throw e;
    }
  }
}

/**
 * The retryable protocol error (-3) for a DingTalk answer whose every page was well formed but
 * whose sequence was not (a paging cursor that comes back): what a reader across pages throws.
 */
export function dingTalkProtocolError(api: string, what: string): PlatformError {
  return protocolError(DINGTALK, api, what);
}

/**
 * The answer's errcode and errmsg. DingTalk's 88 ("auth exception") carries the real reason in
 * `sub_code`/`sub_msg` (e.g. 60011 no permission, 40014 bad token): when that sub_code is a
 * number it becomes the errcode, so classification and the `isUserGone`-style helpers see it.
 */
function errorOf(answer: Obj): AnswerError {
  const plain = answerError(answer);
  const sub = answer.sub_code;
  const subCode = typeof sub === 'number' ? sub : typeof sub === 'string' && /^\d+$/.test(sub) ? Number(sub) : undefined;
  if (plain.errcode === DINGTALK_ERR.authException && subCode !== undefined) {
    const subMsg = typeof answer.sub_msg === 'string' ? answer.sub_msg : plain.errmsg;
    return { errcode: subCode, errmsg: `errcode ${DINGTALK_ERR.authException}, sub_code ${subCode}: ${subMsg}` };
  }
  return plain;
}
