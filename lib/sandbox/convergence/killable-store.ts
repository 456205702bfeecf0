/**
 * A worker process that dies: its view of the state store stops answering after a given number
 * of further calls, as if the Lambda had been killed there. Whatever it wrote to WeCom stays;
 * what it meant to save, and the leases it meant to release, do not. The store itself is shared
 * and lives on for the next worker.
 */
import type { StateStore } from '../../ports';

export class WorkerDiedError extends Error {
  override readonly name = 'WorkerDiedError';
}

export function killableStore(store: StateStore): { store: StateStore; dieAfter(calls: number): void; readonly died: boolean } {
  let remaining = Number.POSITIVE_INFINITY;
  let died = false;
  const view = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (remaining <= 0) {
          died = true;
          return Promise.reject(new WorkerDiedError('the worker process died'));
        }
        remaining--;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store: view,
    dieAfter(calls) {
      remaining = calls;
    },
    /** Whether a call was refused: the process died with work still to do, not after it. */
    get died() {
      return died;
    },
  };
}
