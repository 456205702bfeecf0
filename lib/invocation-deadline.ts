/**
 * The time the current invocation has left, as seen from deep inside it: a platform call that is
 * throttled waits and retries only while the invocation can still finish its work and hand back
 * what it could not do. Carried in AsyncLocalStorage rather than through every signature, because
 * the call sits under EntitySync, the user and department syncs and the clients, and because
 * `npm start` runs several batches at once in one process, each with its own deadline.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const deadlines = new AsyncLocalStorage<number>();

/**
 * What is kept back from the end of an invocation for the work after a throttled call: the
 * entity's other writes, its save, and handing the message back to the queue.
 */
export const DEADLINE_RESERVE_MS = 8_000;

/** Runs `fn` with `deadlineAt` (epoch ms) as the time by which waiting for a platform must end. */
export function withInvocationDeadline<T>(deadlineAt: number, fn: () => Promise<T>): Promise<T> {
  return deadlines.run(deadlineAt, fn);
}

/** The current invocation's deadline for waits (epoch ms), if one was set. */
export function invocationDeadline(): number | undefined {
  return deadlines.getStore();
}

/**
 * The deadline for waits in an invocation that must be over at `endsAt` (epoch ms): the end less
 * DEADLINE_RESERVE_MS, or less half the time when the invocation is shorter than twice that.
 */
export function waitDeadline(now: number, endsAt: number): number {
  const left = Math.max(0, endsAt - now);
  return now + Math.max(left - DEADLINE_RESERVE_MS, left / 2);
}

/** What a Lambda context offers for this: `getRemainingTimeInMillis`. */
export interface InvocationTime {
  getRemainingTimeInMillis(): number;
}

/** Runs `fn` under the deadline of the Lambda invocation `context` describes (none: no deadline). */
export function withLambdaDeadline<T>(context: InvocationTime | undefined, fn: () => Promise<T>): Promise<T> {
  if (typeof context?.getRemainingTimeInMillis !== 'function') return fn();
  const now = Date.now();
  return withInvocationDeadline(waitDeadline(now, now + context.getRemainingTimeInMillis()), fn);
}
