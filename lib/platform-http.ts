/**
 * What the DingTalk and WeCom clients share: the HTTP plumbing under their APIs. Both platforms
 * hand out 7,200-second tokens from a throttled `gettoken`, take the token in the query string,
 * answer HTTP 200 with an `errcode` for their own errors and reject stale tokens with 40014/42001,
 * so one mechanism serves both; a `PlatformProfile` holds what differs.
 */
import { apiBase } from './config';
import { ERRCODE_PROTOCOL, type FailureClass, isThrottle, type Platform, PlatformError } from './errors';
import { invocationDeadline } from './invocation-deadline';
import { createLogger, type Logger } from './log';
import { type Clock, systemClock } from './ports';
import type { RateBudget } from './rate-budget';
import { withRetries } from './retry';
import { type IssuedToken, type TokenCache, tokenCacheKey } from './token-cache';

/** Where the APIs live: the base URL without trailing slashes, plus the profile's `apiPath` unless it already ends in it. */
function apiRoot(baseUrl: string, apiPath = ''): string {
  const base = baseUrl.replace(/\/+$/, '');
  return apiPath === '' || base.endsWith(apiPath) ? base : `${base}${apiPath}`;
}

/** Removes an access token or secret that a platform message (or a proxy) might echo. */
function scrub(text: string, secrets: (string | undefined)[]): string {
  let out = text.replace(/(access_token|appsecret|corpsecret)=[^&\s"']*/gi, '$1=***');
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

/** A transport failure described without its message, so no URL (and no token in its query) can leak. */
function transportFailure(err: unknown, timeoutMs: number): string {
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  if (name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  // undici puts the socket error (ECONNREFUSED, ECONNRESET, ENOTFOUND…) in `cause`.
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : name || 'unknown';
  return `network error (${code})`;
}

/** A JSON object (not an array, not null). */
export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Obj = Record<string, unknown>;

/** What sets one platform's API apart from the other's: one constant per client module. */
export interface PlatformProfile {
  platform: Platform;
  /** Must classify `ERRCODE_PROTOCOL` as retryable. */
  classify(errcode: number): FailureClass;
  token: {
    /** `gettoken`'s query parameter names for the credential id and the secret. */
    idParam: string;
    secretParam: string;
    /** Errcodes that mean the token is no good: the call gets one fresh token and one retry. */
    rejected: ReadonlySet<number>;
  };
  /** JSON text to plain values, throwing on anything else, when `JSON.parse` would lose something. */
  parse?(text: string): unknown;
  /** The answer's errcode (0 = success, undefined = none) and errmsg, when `answerError` is not the whole story. */
  errorOf?(answer: Obj): AnswerError;
  /** One line telling the operator what to fix, for configuration errcodes. */
  describeConfigError(errcode: number, errmsg: string): string | undefined;
  /** Configuration errcodes that turn up in normal running, so logged as warnings, not errors. */
  quietConfigErrors?: ReadonlySet<number>;
  /** HTTP statuses that pass if we wait, each with its errmsg. */
  throttleStatuses: ReadonlyMap<number, string>;
  /** Errcodes that mean "too many calls now" (rate limits), as opposed to other retryable ones. */
  isThrottle?(errcode: number): boolean;
  /** Waits before calling again after a throttle, inside the invocation; none: thrown at once. */
  throttleDelaysMs?: readonly number[];
  /** The setting holding the base URL: an answer the platform would never give points at it. */
  baseUrlSetting: string;
  /**
   * Path under the origin where the APIs live (WeCom: `/cgi-bin`), added by the client so the
   * setting is an origin like the other platform's; a base URL that already ends in it is taken as is.
   */
  apiPath?: string;
  /** What a body that is not JSON usually means on this platform, added to the errmsg. */
  notJsonHint?: string;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Both platforms' "system busy" errcode (`WECOM_ERR.systemBusy`, `DINGTALK_ERR.systemBusy`). The
 * clients give it to every failure that calls for the same cure, trying again later: network
 * errors, timeouts, throttling statuses and answers that are not JSON.
 */
const SYSTEM_BUSY = -1;

/** What either client's constructor takes besides its credentials. */
export interface PlatformClientOptions {
  /** The API origin (scheme, host, port), or a proxy's URL prefix: what `*_API_BASE` holds. */
  baseUrl: string;
  /** Per HTTP request, including reading the body. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  logger?: Logger;
  /** This process's pacing for the platform (lib/rate-budget.ts): every request takes a slot. None: unpaced. */
  budget?: RateBudget;
  /** Overrides the platform's waits before retrying a throttled call (`[]`: never retried here). */
  throttleDelaysMs?: readonly number[];
  /** Told of every answer that says "too many calls" (errcode or HTTP status): for the throttle metric. */
  onThrottle?: (platform: Platform, api: string) => void;
}

/** A client's options, with its credential under neutral names. */
export interface PlatformHttpOptions extends PlatformClientOptions {
  /** The app key or corp id the token is issued for. */
  credentialId: string;
  secret: string;
}

/** One call's query parameters, JSON body, and errcodes that count as success. */
export interface CallOptions {
  query?: Record<string, string>;
  body?: object;
  /** Errcodes that mean the goal is already reached (idempotent deletes): not errors. */
  alreadyDone?: ReadonlySet<number>;
}

/**
 * Token-authenticated calls to one platform's API for one credential. Every failure is a
 * `PlatformError` classified by the profile; no URL is ever put in a message, since the token
 * travels in the query string.
 */
export class PlatformHttp {
  /** HTTP requests made, per API path (gettoken included): for benchmarks. */
  readonly calls: Record<string, number> = {};

  private readonly credentialId: string;
  private readonly secret: string;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly cacheKey: string;
  private readonly budget: RateBudget | undefined;
  private readonly throttleDelaysMs: readonly number[];
  private readonly onThrottle: ((platform: Platform, api: string) => void) | undefined;

  constructor(
    private readonly profile: PlatformProfile,
    private readonly tokens: TokenCache,
    opts: PlatformHttpOptions,
  ) {
    this.credentialId = opts.credentialId;
    this.secret = opts.secret;
    this.baseUrl = apiRoot(apiBase(opts.baseUrl, profile.baseUrlSetting), profile.apiPath);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? createLogger(`${profile.platform}-api`);
    this.cacheKey = tokenCacheKey(this.baseUrl, opts.credentialId, opts.secret);
    this.budget = opts.budget;
    this.throttleDelaysMs = opts.throttleDelaysMs ?? profile.throttleDelaysMs ?? [];
    this.onThrottle = opts.onThrottle;
  }

  /**
   * `callOnce`, called again after a wait when throttled (the API paused meanwhile for all of this
   * process) while the invocation has time left (lib/invocation-deadline.ts); else thrown, `throttled`.
   */
  call(api: string, method: 'GET' | 'POST', opts: CallOptions = {}): Promise<Obj> {
    const onRetry = (e: unknown, attempt: number, delayMs: number) => {
      this.budget?.pause(api, delayMs);
      this.logger.warn(`${this.profile.platform} throttled the call; calling again after a wait`, { api, attempt, delayMs, error: (e as Error).message });
    };
    const policy = { delaysMs: this.throttleDelaysMs, retryable: isThrottle, deadlineAt: invocationDeadline(), now: () => this.clock.now(), onRetry };
    return withRetries(policy, () => this.callOnce(api, method, opts));
  }

  /**
   * Calls an API with the token, retrying once with a fresh token if the platform rejects it, and
   * checks the errcode: only an answer stating errcode 0 (or one of `alreadyDone`) is returned.
   */
  private async callOnce(api: string, method: 'GET' | 'POST', opts: CallOptions): Promise<Obj> {
    let token = await this.accessToken();
    let answer = await this.send(api, method, { ...opts.query, access_token: token }, opts.body);
    const first = this.errorOf(answer).errcode;
    if (first !== undefined && this.profile.token.rejected.has(first)) {
      // Once only: a second rejection is thrown below, never looped on.
      this.logger.warn(`${this.profile.platform} rejected the access token; fetching a new one`, { api, errcode: first });
      this.tokens.drop(this.cacheKey, token);
      token = await this.accessToken();
      answer = await this.send(api, method, { ...opts.query, access_token: token }, opts.body);
    }
    const errcode = this.errorOf(answer).errcode;
    if (errcode !== undefined && errcode !== 0 && opts.alreadyDone?.has(errcode)) {
      this.logger.debug(`${this.profile.platform}: already done`, { api, errcode });
      return answer;
    }
    this.check(api, answer, token);
    return answer;
  }

  private accessToken(): Promise<string> {
    return this.tokens.get(this.cacheKey, this.clock, () => this.fetchToken());
  }

  private async fetchToken(): Promise<IssuedToken> {
    const { idParam, secretParam } = this.profile.token;
    const answer = await this.send('gettoken', 'GET', { [idParam]: this.credentialId, [secretParam]: this.secret }, undefined);
    // gettoken is the one answer documented without an errcode: its access_token says it worked.
    this.check('gettoken', answer, undefined, { errcodeOptional: true });
    const token = answer.access_token;
    if (typeof token !== 'string' || token === '') throw protocolError(this.profile, 'gettoken', 'no access_token');
    const seconds = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : 7200;
    this.logger.debug(`${this.profile.platform} access token fetched`, { expiresInSeconds: seconds });
    return { token, expiresInSeconds: seconds };
  }

  private errorOf(answer: Obj): AnswerError {
    return this.profile.errorOf ? this.profile.errorOf(answer) : answerError(answer);
  }

  /**
   * Throws the answer's error, if any, as a classified PlatformError. An answer without an
   * errcode, or with one that is not an integer, is a protocol error: never a success.
   */
  private check(api: string, answer: Obj, token: string | undefined, opts: { errcodeOptional?: boolean } = {}): void {
    const { errcode, errmsg: raw } = this.errorOf(answer);
    if (errcode === 0 || (errcode === undefined && opts.errcodeOptional)) return;
    if (errcode === undefined) throw protocolError(this.profile, api, 'no errcode');
    if (errcode === ERRCODE_PROTOCOL) throw protocolError(this.profile, api, `errcode ${JSON.stringify(answer.errcode)} is not an integer`);
    const { platform } = this.profile;
    const errmsg = scrub(raw, [token, this.secret]);
    const failure = this.profile.classify(errcode);
    if (this.profile.isThrottle?.(errcode)) this.onThrottle?.(platform, api);
    if (failure === 'configuration') {
      const level = this.profile.quietConfigErrors?.has(errcode) ? 'warn' : 'error';
      this.logger[level](`${platform} configuration error`, { api, errcode, errmsg, fix: this.profile.describeConfigError(errcode, errmsg) });
    }
    // The platform's own answer: whatever it is, the request was not carried out.
    throw new PlatformError(platform, api, errcode, errmsg, failure, { throttled: this.profile.isThrottle?.(errcode), refused: true });
  }

  /** One HTTP request, in its turn; transport failures become retryable PlatformErrors. */
  private async send(api: string, method: 'GET' | 'POST', query: Record<string, string>, body: object | undefined): Promise<Obj> {
    const { platform } = this.profile;
    // The invocation's deadline caps every wait: past it nothing more is sent, and a call waits no
    // longer than it allows, so work started late fails in time (retryably) instead of being killed.
    const deadlineAt = invocationDeadline();
    if (this.budget && !(await this.budget.take(api, deadlineAt))) {
      throw new PlatformError(platform, api, SYSTEM_BUSY, `no call slot left before the invocation's deadline (paced)`, 'retryable', { throttled: true });
    }
    const left = deadlineAt === undefined ? undefined : deadlineAt - Date.now();
    if (left !== undefined && left <= 0) throw new PlatformError(platform, api, SYSTEM_BUSY, 'not sent: the invocation is about to end', 'retryable');
    const timeoutMs = left === undefined ? this.timeoutMs : Math.min(this.timeoutMs, left);
    this.calls[api] = (this.calls[api] ?? 0) + 1;
    const url = `${this.baseUrl}/${api}?${new URLSearchParams(query).toString()}`;
    let status: number;
    let text: string;
    try {
      const res = await this.fetchImpl(url, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw new PlatformError(platform, api, SYSTEM_BUSY, transportFailure(err, timeoutMs), 'retryable');
    }
    if (status >= 500) throw new PlatformError(platform, api, status, `HTTP ${status}`, this.profile.classify(status));
    const throttled = this.profile.throttleStatuses.get(status);
    if (throttled !== undefined) {
      this.onThrottle?.(platform, api);
      throw new PlatformError(platform, api, SYSTEM_BUSY, throttled, 'retryable', { throttled: true });
    }
    if (status < 200 || status > 299) {
      // Both platforms answer 200 even for their own errors: another status means the request
      // went somewhere else than the platform's API (a wrong base URL, a proxy).
      throw new PlatformError(platform, api, status, `HTTP ${status}: check ${this.profile.baseUrlSetting} and any proxy in between`, 'configuration');
    }
    let parsed: unknown;
    try {
      parsed = this.profile.parse ? this.profile.parse(text) : JSON.parse(text);
    } catch {
      const hint = this.profile.notJsonHint === undefined ? '' : `: ${this.profile.notJsonHint}`;
      throw new PlatformError(platform, api, SYSTEM_BUSY, `answer is not JSON (HTTP ${status})${hint}`, 'retryable');
    }
    if (!isObj(parsed))
      throw protocolError(this.profile, api, `${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}, not a JSON object`);
    return parsed;
  }
}

/**
 * What an answer says about itself: its errcode (undefined when it states none, which only
 * gettoken may do; `ERRCODE_PROTOCOL` when it is not an integer) and its errmsg.
 */
export interface AnswerError {
  errcode: number | undefined;
  errmsg: string;
}

/** The errcode and errmsg as both platforms state them: an integer, or its decimal text. */
export function answerError(answer: Obj): AnswerError {
  const errmsg = typeof answer.errmsg === 'string' ? answer.errmsg : '';
  const raw = answer.errcode;
  if (raw === undefined || raw === null) return { errcode: undefined, errmsg };
  const errcode = Number.isSafeInteger(raw) ? (raw as number) : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : ERRCODE_PROTOCOL;
  return { errcode, errmsg };
}

/**
 * An HTTP 200 answer that is not of the documented shape: the platform does not answer so, a
 * proxy or gateway in between does. Retryable (the profile classifies `ERRCODE_PROTOCOL`), so a
 * message that keeps meeting it ends in the dead-letter queue with this text.
 */
export function protocolError(profile: PlatformProfile, api: string, what: string): PlatformError {
  return new PlatformError(
    profile.platform,
    api,
    ERRCODE_PROTOCOL,
    `answer not of the documented shape (${what}): check any proxy in front of ${profile.baseUrlSetting}`,
    profile.classify(ERRCODE_PROTOCOL),
  );
}
