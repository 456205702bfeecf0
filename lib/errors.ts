/**
 * Failures from DingTalk or WeCom, classified so that each kind is handled the way that helps:
 * - `retryable`: the message goes back to the queue (network, 5xx, -1, 45009, …);
 * - `permanent`: bad data for this entity; recorded, not retried until the entity changes;
 * - `configuration`: the operator must fix something (secret, trusted IP, app scope).
 */
export type FailureClass = 'retryable' | 'permanent' | 'configuration';

export type Platform = 'dingtalk' | 'wecom';

/**
 * Our errcode, on both platforms, for an HTTP 200 answer that is not of the documented shape:
 * no `errcode`, JSON that is not an object (`null`, `[]`), a write's answer without its documented
 * field (`department/create` without `id`). The platforms do not answer so; something in between
 * (a proxy, a gateway) does, and it may pass again. So it is retryable, and nothing is taken as
 * done: an answer without `errcode` is never read as a success.
 */
export const ERRCODE_PROTOCOL = -3;

export class PlatformError extends Error {
  override readonly name = 'PlatformError';
  /**
   * The platform (or our own pacing) said "too many calls now": it passes by waiting, and is
   * waited out inside the invocation while its time allows; never counted as a failed attempt.
   */
  readonly throttled: boolean;
  /**
   * True when the platform itself answered with this errcode, so the request was not carried
   * out. False when the outcome is unknown (no answer, a timeout, a 5xx, an answer not of the
   * documented shape): a write may have happened even though its answer was lost.
   */
  readonly refused: boolean;
  constructor(
    readonly platform: Platform,
    /** The API path that answered, e.g. `user/create` or `topapi/v2/user/get`. */
    readonly api: string,
    /** The platform's errcode; -1 also stands for network errors and timeouts, 5xx for HTTP status. */
    readonly errcode: number,
    readonly errmsg: string,
    readonly failure: FailureClass,
    opts: { throttled?: boolean; refused?: boolean } = {},
  ) {
    super(`${platform} ${api} failed: errcode ${errcode} ${errmsg}`);
    this.throttled = opts.throttled ?? false;
    this.refused = opts.refused ?? false;
  }

  get retryable(): boolean {
    return this.failure === 'retryable';
  }
}

export function isPlatformError(e: unknown, errcode?: number): e is PlatformError {
  return e instanceof PlatformError && (errcode === undefined || e.errcode === errcode);
}

/** A platform call refused as too many (DingTalk 90018, WeCom 45009/45033, HTTP 429) or paced out of the invocation's time. */
export function isThrottle(e: unknown): e is PlatformError {
  return e instanceof PlatformError && e.throttled;
}
