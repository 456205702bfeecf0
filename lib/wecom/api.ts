/**
 * WeCom write client: departments and users through the contact-sync secret, plus the two id
 * lists that secret may still read (48009 forbids every detail read from it).
 *
 * - Node's global fetch, one timeout per HTTP request (`AbortSignal.timeout`).
 * - The base URL is the API origin (`WECOM_API_BASE`); the client adds `/cgi-bin/`, and a base
 *   that already ends in `/cgi-bin` is accepted as well.
 * - The access token is cached at module level per (base URL, corp id, secret hash), so warm
 *   Lambda invocations and several instances share it; it is refreshed before it expires,
 *   concurrent callers share one `gettoken`, and a token WeCom rejects (40014/42001) is replaced
 *   once and the call retried once. A wrong secret (40001) fails loudly and is not asked again
 *   for a minute: repeated wrong secrets get the IP banned for an hour.
 * - Calls are paced per API by the process's budget (lib/rate-budget.ts); one WeCom throttles
 *   (45009 past 10,000 calls/min per API, 45033 too many at once) is made again after a wait,
 *   while the invocation has time (lib/invocation-deadline.ts).
 * - Every answer's errcode is checked; every failure is a `PlatformError` classified by
 *   `classifyWeComError` (network/timeout/non-JSON → -1, HTTP 5xx → the status). 60020 keeps
 *   WeCom's full errmsg, which names the caller's IP.
 * - Only the documented shape counts: an answer without an errcode, or without the field an API
 *   documents (`department/create`'s `id`, the id lists' arrays), is a retryable protocol error
 *   (-3), never a success: a proxy in front of WeCom can answer so.
 * - Deletes are idempotent (a worker may handle the same change twice, so deleting what is
 *   already gone succeeds).
 * - The access token and secret never appear in errors or logs (the token travels in the query
 *   string, so no URL is ever put in a message).
 */
import type { PlatformError } from '../errors';
import type { Logger } from '../log';
import { isObj, type PlatformClientOptions, PlatformHttp, type PlatformProfile, protocolError } from '../platform-http';
import type { WeComDeptPayload, WeComDeptRef, WeComDirectory, WeComUserDeptRow, WeComUserPayload } from '../ports';
import { TokenCache } from '../token-cache';
import { classifyWeComError, describeWeComConfigError, WECOM_ERR, WECOM_THROTTLES, WECOM_TOKEN_REJECTED } from './errors';

/** The corp, its contact-sync secret and where WeCom's API is. */
export interface WeComApiOptions extends PlatformClientOptions {
  corpId: string;
  /** The contact-sync secret (通讯录同步): only it may write contacts. */
  secret: string;
  /** The API origin, like `https://qyapi.weixin.qq.com` (or a proxy, or the sandbox); `…/cgi-bin` works too. */
  baseUrl: string;
}

/** `user/list_id` page size: WeCom's maximum. */
export const LIST_ID_LIMIT = 10_000;

/** Department already gone. */
const DEPT_GONE: ReadonlySet<number> = new Set([WECOM_ERR.deptNotFound]);
/** User already gone: WeCom answers either code for a missing member. */
const USER_GONE: ReadonlySet<number> = new Set([WECOM_ERR.useridNotFound, WECOM_ERR.userNotFound]);

// Answers go through plain JSON.parse, which is exact here: WeCom's ids and orders are 32-bit,
// user ids are strings.
const WECOM: PlatformProfile = {
  platform: 'wecom',
  classify: classifyWeComError,
  token: { idParam: 'corpid', secretParam: 'corpsecret', rejected: WECOM_TOKEN_REJECTED },
  describeConfigError: describeWeComConfigError,
  throttleStatuses: new Map([[429, 'HTTP 429 (throttled)']]),
  // 45033 (too many at once) passes within a second or two; 45009 (10,000 calls/min per API for
  // the company) blocks the rest of WeCom's minute window, so the waits grow to cover one.
  isThrottle: (errcode) => WECOM_THROTTLES.has(errcode),
  throttleDelaysMs: [1_000, 2_000, 5_000, 10_000, 15_000, 30_000],
  baseUrlSetting: 'WECOM_API_BASE',
  apiPath: '/cgi-bin',
};

// Shared by every instance in this module, i.e. across warm Lambda invocations.
const tokens = new TokenCache();

/** Forget every cached WeCom token (and held gettoken failure): for tests and the doctor function. */
export function resetWeComTokenCache(): void {
  tokens.clear();
}

// ---------------------------------------------------------------------------------------------

/** The WeCom directory over WeCom's server API, for one corp and its contact-sync secret. */
export class WeComApi implements WeComDirectory {
  /** HTTP requests made by this instance, per API path (gettoken included): for benchmarks. */
  readonly calls: Record<string, number>;

  private readonly http: PlatformHttp;
  private readonly logger: Logger | undefined;

  constructor(opts: WeComApiOptions) {
    const { corpId, secret, ...rest } = opts;
    this.http = new PlatformHttp(WECOM, tokens, { ...rest, credentialId: corpId, secret });
    this.calls = this.http.calls;
    this.logger = opts.logger;
  }

  /**
   * One line per write WeCom accepted: the end of a change's trail (the logger adds the
   * correlation id). Field names only: the values are personal data.
   */
  private written(api: string, wecomId: string | number, payload?: object): void {
    const fields = payload ? Object.keys(payload).filter((k) => k !== 'id' && k !== 'userid') : undefined;
    this.logger?.info('wecom write', { api, wecomId: String(wecomId), ...(fields ? { fields } : {}) });
  }

  async createDept(payload: WeComDeptPayload): Promise<number> {
    const api = 'department/create';
    const answer = await this.http.call(api, 'POST', { body: payload });
    // Older answers carry no id when one was requested: it is the requested one.
    if (answer.id === undefined && payload.id !== undefined) {
      this.written(api, payload.id, payload);
      return payload.id;
    }
    // Without an id the department may well exist (WeCom chose its id): the caller's retry must
    // find it rather than create it again (see the department sync).
    if (answer.id === undefined) throw badAnswer(api, 'no department id');
    const id = int(api, answer.id, 'id');
    this.written(api, id, payload);
    return id;
  }

  async updateDept(payload: Partial<WeComDeptPayload> & { id: number }): Promise<void> {
    await this.http.call('department/update', 'POST', { body: payload });
    this.written('department/update', payload.id, payload);
  }

  async deleteDept(id: number): Promise<void> {
    await this.http.call('department/delete', 'GET', { query: { id: String(id) }, alreadyDone: DEPT_GONE });
    this.written('department/delete', id);
  }

  async listDepts(rootId?: number): Promise<WeComDeptRef[]> {
    const api = 'department/simplelist';
    const answer = await this.http.call(api, 'GET', { query: rootId === undefined ? {} : { id: String(rootId) } });
    // Never absent: the listed department itself is in it. Read as empty, WeCom would look bare.
    const list = answer.department_id;
    if (!Array.isArray(list)) throw badAnswer(api, 'department_id is not an array');
    return list.map((d: unknown) => {
      if (!isObj(d)) throw badAnswer(api, 'department entry is not an object');
      const ref: WeComDeptRef = { id: int(api, d.id, 'id'), parentid: int(api, d.parentid, 'parentid') };
      if (typeof d.order === 'number') ref.order = d.order;
      return ref;
    });
  }

  async createUser(payload: WeComUserPayload): Promise<void> {
    // WeCom's to_invite defaults to true (it sends an invitation): never leave it to WeCom.
    await this.http.call('user/create', 'POST', { body: { ...payload, to_invite: payload.to_invite ?? false } });
    this.written('user/create', payload.userid, payload);
  }

  async updateUser(payload: Partial<WeComUserPayload> & { userid: string }): Promise<void> {
    // to_invite belongs to creation only; update does not document it, so it is not sent.
    const { to_invite: _notForUpdate, ...fields } = payload;
    await this.http.call('user/update', 'POST', { body: fields });
    this.written('user/update', payload.userid, fields);
  }

  async deleteUser(userid: string): Promise<void> {
    await this.http.call('user/delete', 'GET', { query: { userid }, alreadyDone: USER_GONE });
    this.written('user/delete', userid);
  }

  /**
   * Asks for one `user/list_id` row and nothing else: it succeeds only for the contact-sync
   * secret (an app's secret gets 48002 / 60011) called from an IP WeCom trusts (else 60020,
   * naming the IP). For the doctor, which must not page through a whole directory.
   */
  async probeContactSync(): Promise<void> {
    await this.http.call('user/list_id', 'POST', { body: { limit: 1 } });
  }

  async listUserDepts(): Promise<WeComUserDeptRow[]> {
    const api = 'user/list_id';
    const rows: WeComUserDeptRow[] = [];
    const seen = new Set<string>();
    let cursor = '';
    do {
      const body = cursor === '' ? { limit: LIST_ID_LIMIT } : { cursor, limit: LIST_ID_LIMIT };
      const answer = await this.http.call(api, 'POST', { body });
      const page = answer.dept_user;
      if (!Array.isArray(page)) throw badAnswer(api, 'dept_user is not an array');
      for (const row of page) {
        if (!isObj(row) || typeof row.userid !== 'string') throw badAnswer(api, 'dept_user entry without a userid');
        rows.push({ userid: row.userid, department: int(api, row.department, 'department') });
      }
      cursor = typeof answer.next_cursor === 'string' ? answer.next_cursor : '';
      // A cursor seen before would page forever.
      if (cursor !== '' && seen.has(cursor)) throw badAnswer(api, 'next_cursor repeats');
      seen.add(cursor);
    } while (cursor !== '');
    return rows;
  }
}

function badAnswer(api: string, what: string): PlatformError {
  return protocolError(WECOM, api, what);
}

function int(api: string, v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw badAnswer(api, `${what} is not an integer`);
}
