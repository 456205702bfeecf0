/**
 * The time a piece of work must be done by, carried along its async call chain. The sync worker
 * sets it per record from the Lambda's remaining time; every platform call (lib/platform-http.ts)
 * then waits at most until it, so a record started near the end of an invocation fails in time
 * — retryably, back to the queue — instead of being killed with the whole batch by the timeout.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<number>();

/** Runs `fn` with a deadline (epoch ms); an earlier deadline already in force is kept. */
export function withDeadline<T>(deadlineAt: number, fn: () => Promise<T>): Promise<T> {
  const outer = current.getStore();
  return current.run(outer === undefined ? deadlineAt : Math.min(outer, deadlineAt), fn);
}

/** Milliseconds left before the deadline in force (negative once past), or undefined when there is none. */
export function timeLeftMs(now = Date.now()): number | undefined {
  const deadlineAt = current.getStore();
  return deadlineAt === undefined ? undefined : deadlineAt - now;
}
