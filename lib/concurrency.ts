/**
 * Bounding work in flight: pure scheduling, no I/O of its own. Used by the SQS adapter (batches
 * in parallel within the callback's deadline) and by the reconcile (parallel reads and writes).
 * Their rate is not bounded here: every platform call is paced by lib/rate-budget.ts.
 */

/** Wraps async work so that at most `limit` run at once; the rest wait their turn in order. */
export function concurrencyLimit(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    while (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping results in input order. */
export function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const slot = concurrencyLimit(limit);
  return Promise.all(items.map((item) => slot(() => fn(item))));
}
