/**
 * The faults a simulator can be told to inject into its next answers, queued per API: an errcode,
 * an HTTP status, a dropped connection (before or after the call took effect), an arbitrary HTTP
 * 200 body, or the route's own answer rewritten. The last two give what a proxy or gateway in
 * front of a platform can give (an empty 200, an answer that lost a field), which the platforms
 * themselves never do. A fault policy (random-faults.ts) may also pick one for any call.
 */

/** What a route answered (or an error answer), as the JSON object about to be sent. */
export type AnswerObject = Record<string, unknown>;

export type Fault =
  | { kind: 'errcode'; errcode: number; errmsg?: string; remaining: number }
  | { kind: 'http'; status: number; remaining: number }
  | { kind: 'drop'; remaining: number }
  /**
   * The route runs (its change happens), then the connection is destroyed without an answer: to
   * the caller, a call that timed out after the platform had acted on it.
   */
  | { kind: 'dropAfter'; remaining: number }
  /** HTTP 200 with exactly this text, instead of running the route. */
  | { kind: 'answer'; text: string; remaining: number }
  /** The route runs as usual (its change happens); its answer is sent as `rewrite` returns it. */
  | { kind: 'rewrite'; rewrite: (answer: AnswerObject) => AnswerObject; remaining: number };

/** A fault as a policy picks it for one call: no count. */
export type InjectedFault = Fault extends infer F ? (F extends Fault ? Omit<F, 'remaining'> : never) : never;

/** What a fault policy sees of a call: the API, the query without the access token, the raw body. */
export interface FaultCall {
  api: string;
  query: URLSearchParams;
  body: string;
}

/** Picks a fault for a call that no queued fault claimed, or none. */
export type FaultPolicy = (call: FaultCall) => InjectedFault | undefined;

/** Faults per API, each used for its `remaining` calls, in the order they were queued. */
export class FaultQueue {
  private readonly faults = new Map<string, Fault[]>();

  add(api: string, fault: Fault): void {
    if (!Number.isInteger(fault.remaining) || fault.remaining < 1) throw new RangeError('count must be a positive integer');
    const queue = this.faults.get(api) ?? [];
    queue.push(fault);
    this.faults.set(api, queue);
  }

  /** The fault for this call of `api`, if any, counting it as used. */
  take(api: string): Fault | undefined {
    const queue = this.faults.get(api);
    const fault = queue?.[0];
    if (!queue || !fault) return undefined;
    if (--fault.remaining === 0) queue.shift();
    return fault;
  }

  clear(): void {
    this.faults.clear();
  }
}
