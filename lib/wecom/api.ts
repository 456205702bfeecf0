/**
 * WeCom write client (platform/wecom.md): departments and users through the contact-sync
 * secret, plus the two id lists that secret may still read (48009 forbids everything else).
 *
 * - Node's global fetch, one timeout per HTTP request (`AbortSignal.timeout`).
 * - The access token is cached at module level per (base URL, corp id, secret hash), so warm
 *   Lambda invocations and several instances share it; it is refreshed before it expires,
 *   concurrent callers share one `gettoken`, and a token WeCom rejects (40014/42001) is replaced
 *   once and the call retried once. A wrong secret (40001) fails loudly and is not asked again
 *   for a minute: repeated wrong secrets get the IP banned for an hour.
 * - Every answer's errcode is checked; every failure is a `PlatformError` classified by
 *   `classifyWeComError` (network/timeout/non-JSON → -1, HTTP 5xx → the status). 60020 keeps
 *   WeCom's full errmsg, which names the caller's IP.
 * - Deletes are idempotent (design invariant 4): deleting what is already gone succeeds.
 * - The access token and secret never appear in errors or logs (the token travels in the query
 *   string, so no URL is ever put in a message).
 */
import { PlatformError } from '../errors';
import { isObj, scrub, tokenCacheKey, TokenCache, transportFailure, type IssuedToken } from '../platform-http';
import { createLogger, type Logger } from '../log';
import {
  systemClock,
  type Clock,
  type WeComDeptPayload,
  type WeComDeptRef,
  type WeComDirectory,
  type WeComUserDeptRow,
  type WeComUserPayload,
} from '../ports';
import { classifyWeComError, describeWeComConfigError, ERRCODE_BAD_ANSWER, WECOM_TOKEN_REJECTED } from './errors';

export interface WeComApiOptions {
  corpId: string;
  /** The contact-sync secret (通讯录同步): only it may write contacts. */
  secret: string;
  /** Like `https://qyapi.weixin.qq.com/cgi-bin` (or a proxy, or the sandbox). */
  baseUrl: string;
  /** Per HTTP request, including reading the body. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  logger?: Logger;
}

export const DEFAULT_TIMEOUT_MS = 5_000;

/** `user/list_id` page size: WeCom's maximum. */
export const LIST_ID_LIMIT = 10_000;


/** Department already gone. */
const DEPT_GONE = new Set([60003]);
/** User already gone: 60111 userid not found, 46004 user not found. */
const USER_GONE = new Set([60111, 46004]);

// ---------------------------------------------------------------------------------------------
// Token cache, shared by every instance in this module (i.e. across warm Lambda invocations)

const tokens = new TokenCache();

/** For tests: forget every cached WeCom token. */
export function resetWeComTokenCache(): void {
  tokens.clear();
}

// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
type Query = Record<string, string>;

interface CallOptions {
  query?: Query;
  body?: object;
  /** Errcodes that mean the goal is already reached (idempotent deletes): not errors. */
  alreadyDone?: ReadonlySet<number>;
}

export class WeComApi implements WeComDirectory {
  /** HTTP requests made by this instance, per API path (gettoken included): for benchmarks. */
  readonly calls: Record<string, number> = {};

  private readonly corpId: string;
  private readonly secret: string;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly cacheKey: string;

  constructor(opts: WeComApiOptions) {
    this.corpId = opts.corpId;
    this.secret = opts.secret;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? createLogger('wecom-api');
    this.cacheKey = tokenCacheKey(this.baseUrl, opts.corpId, opts.secret);
  }

  async createDept(payload: WeComDeptPayload): Promise<number> {
    const answer = await this.call('department/create', 'POST', { body: payload });
    if (typeof answer.id === 'number' && Number.isSafeInteger(answer.id)) return answer.id;
    // Older answers carry no id when one was requested: it is the requested one.
    if (answer.id === undefined && payload.id !== undefined) return payload.id;
    throw badAnswer('department/create', 'no department id');
  }

  async updateDept(payload: Partial<WeComDeptPayload> & { id: number }): Promise<void> {
    await this.call('department/update', 'POST', { body: payload });
  }

  async deleteDept(id: number): Promise<void> {
    await this.call('department/delete', 'GET', { query: { id: String(id) }, alreadyDone: DEPT_GONE });
  }

  async listDepts(rootId?: number): Promise<WeComDeptRef[]> {
    const api = 'department/simplelist';
    const answer = await this.call(api, 'GET', { query: rootId === undefined ? {} : { id: String(rootId) } });
    const list = answer.department_id ?? [];
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
    await this.call('user/create', 'POST', { body: { ...payload, to_invite: payload.to_invite ?? false } });
  }

  async updateUser(payload: Partial<WeComUserPayload> & { userid: string }): Promise<void> {
    // to_invite belongs to creation only; update does not document it, so it is not sent.
    const { to_invite: _notForUpdate, ...fields } = payload;
    await this.call('user/update', 'POST', { body: fields });
  }

  async deleteUser(userid: string): Promise<void> {
    await this.call('user/delete', 'GET', { query: { userid }, alreadyDone: USER_GONE });
  }

  async listUserDepts(): Promise<WeComUserDeptRow[]> {
    const api = 'user/list_id';
    const rows: WeComUserDeptRow[] = [];
    const seen = new Set<string>();
    let cursor = '';
    do {
      const body = cursor === '' ? { limit: LIST_ID_LIMIT } : { cursor, limit: LIST_ID_LIMIT };
      const answer = await this.call(api, 'POST', { body });
      const page = answer.dept_user ?? [];
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

  // -------------------------------------------------------------------------------------------

  /** Calls an API with the token, retrying once with a fresh token if WeCom rejects it, and checks the errcode. */
  private async call(api: string, method: 'GET' | 'POST', opts: CallOptions): Promise<Obj> {
    let token = await this.accessToken();
    let answer = await this.send(api, method, { ...opts.query, access_token: token }, opts.body);
    const first = errcodeOf(answer);
    if (WECOM_TOKEN_REJECTED.has(first)) {
      // Once only: a second rejection is thrown below, never looped on.
      this.logger.warn('wecom rejected the access token; fetching a new one', { api, errcode: first });
      tokens.drop(this.cacheKey, token);
      token = await this.accessToken();
      answer = await this.send(api, method, { ...opts.query, access_token: token }, opts.body);
    }
    const errcode = errcodeOf(answer);
    if (errcode !== 0 && opts.alreadyDone?.has(errcode)) {
      this.logger.debug('wecom: already done', { api, errcode });
      return answer;
    }
    this.check(api, answer, token);
    return answer;
  }

  private accessToken(): Promise<string> {
    return tokens.get(this.cacheKey, this.clock, () => this.fetchToken());
  }

  private async fetchToken(): Promise<IssuedToken> {
    const answer = await this.send('gettoken', 'GET', { corpid: this.corpId, corpsecret: this.secret }, undefined);
    this.check('gettoken', answer, undefined);
    const token = answer.access_token;
    if (typeof token !== 'string' || token === '') throw badAnswer('gettoken', 'no access_token');
    const seconds = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : 7200;
    this.logger.debug('wecom access token fetched', { expiresInSeconds: seconds });
    return { token, expiresInSeconds: seconds };
  }

  /** Throws the answer's error, if any, as a classified PlatformError. */
  private check(api: string, answer: Obj, token: string | undefined): void {
    const errcode = errcodeOf(answer);
    if (errcode === 0) return;
    const errmsg = scrub(typeof answer.errmsg === 'string' ? answer.errmsg : '', [token, this.secret]);
    const failure = classifyWeComError(errcode);
    if (failure === 'configuration') {
      this.logger.error('wecom configuration error', { api, errcode, errmsg, fix: describeWeComConfigError(errcode, errmsg) });
    }
    throw new PlatformError('wecom', api, errcode, errmsg, failure);
  }

  /** One HTTP request; transport failures become retryable PlatformErrors. Never puts the URL in an error. */
  private async send(api: string, method: 'GET' | 'POST', query: Query, body: object | undefined): Promise<Obj> {
    this.calls[api] = (this.calls[api] ?? 0) + 1;
    const url = `${this.baseUrl}/${api}?${new URLSearchParams(query).toString()}`;
    let status: number;
    let text: string;
    try {
      const res = await this.fetchImpl(url, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw new PlatformError('wecom', api, -1, transportFailure(err, this.timeoutMs), 'retryable');
    }
    if (status >= 500) throw new PlatformError('wecom', api, status, `HTTP ${status}`, classifyWeComError(status));
    if (status === 429) throw new PlatformError('wecom', api, -1, 'HTTP 429 (throttled)', 'retryable');
    if (status < 200 || status > 299) {
      // WeCom answers 200 even for errors: another status means the request went somewhere
      // else than WeCom's API (a wrong WECOM_API_BASE, a proxy).
      throw new PlatformError('wecom', api, status, `HTTP ${status}: check WECOM_API_BASE and any proxy in between`, 'configuration');
    }
    let parsed: unknown;
    try {
      // Plain JSON.parse is exact here: WeCom's ids and orders are 32-bit, user ids are strings.
      parsed = JSON.parse(text);
    } catch {
      throw new PlatformError('wecom', api, -1, `answer is not JSON (HTTP ${status})`, 'retryable');
    }
    if (!isObj(parsed)) throw badAnswer(api, 'not a JSON object');
    return parsed;
  }
}

/** The answer's errcode; absent means success (gettoken's older answers omit it). */
function errcodeOf(answer: Obj): number {
  const raw = answer.errcode;
  if (raw === undefined || raw === null) return 0;
  if (typeof raw === 'number') return raw;
  return typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : ERRCODE_BAD_ANSWER;
}

function badAnswer(api: string, what: string): PlatformError {
  return new PlatformError('wecom', api, ERRCODE_BAD_ANSWER, `unusable answer: ${what}`, classifyWeComError(ERRCODE_BAD_ANSWER));
}

function int(api: string, v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw badAnswer(api, `${what} is not an integer`);
}



