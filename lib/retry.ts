/**
 * The one retry loop of the service: call, and when the failure is one that calls for "later",
 * wait the next delay and call again. Used wherever a platform or a queue may answer "not now"
 * (the reconcile's throttled reads, the SQS adapter's partly failed batches, the DingTalk
 * simulator's push retries), so each of them states only its delays and what counts as
 * retryable.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Wait before each retry, in order: `[1000, 3000]` means three calls at most. */
  delaysMs: readonly number[];
  /** True when the failure may go away by itself; anything else is thrown at once. */
  retryable(error: unknown): boolean;
  /** Called before each wait, e.g. to log; `attempt` counts from 1 (the call that failed). */
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  /** Once aborted, no further call is made (a pending wait ends early) and the last failure is thrown. */
  signal?: AbortSignal;
  /**
   * Epoch ms after which no call is made: a retry whose wait would end later is not waited for,
   * and the failure is thrown while the caller still has time to hand its work back.
   */
  deadlineAt?: number;
  /** For `deadlineAt`; default Date.now. */
  now?: () => number;
}

/** Runs `fn` (given the attempt number, from 1) until it succeeds or the policy says stop. */
export async function withRetries<T>(policy: RetryPolicy, fn: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const delay = policy.delaysMs[attempt - 1];
      if (delay === undefined || !policy.retryable(e) || policy.signal?.aborted) throw e;
      if (policy.deadlineAt !== undefined && (policy.now ?? Date.now)() + delay > policy.deadlineAt) throw e;
      policy.onRetry?.(e, attempt, delay);
      if (delay > 0) {
        try {
          await sleep(delay, undefined, { signal: policy.signal });
        } catch {
          throw e; // aborted while waiting: the owner went away, so this failure is the last
        }
      }
    }
  }
}

/** `count` delays doubling from `firstMs`: exponentialDelays(3, 50) → [50, 100, 200]. */
export function exponentialDelays(count: number, firstMs: number): number[] {
  return Array.from({ length: Math.max(0, count) }, (_, i) => firstMs * 2 ** i);
}
