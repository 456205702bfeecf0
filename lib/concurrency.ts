/**
 * Bounding work in flight and its rate: pure scheduling, no I/O of its own. Used by the SQS
 * adapter (batches in parallel within the callback's deadline) and by the reconcile (DingTalk
 * reads and WeCom writes under the platforms' limits).
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

/** Spaces the starts of calls to each API so no API exceeds `perSecond` (DingTalk's 20/s/API). */
export class PerApiRateLimiter {
  private readonly nextStart = new Map<string, number>();
  constructor(private readonly perSecond: number) {}

  async run<T>(api: string, fn: () => Promise<T>): Promise<T> {
    if (this.perSecond > 0 && Number.isFinite(this.perSecond)) {
      const gap = 1000 / this.perSecond;
      const now = performance.now();
      const start = Math.max(now, this.nextStart.get(api) ?? now);
      this.nextStart.set(api, start + gap);
      if (start > now) await new Promise((r) => setTimeout(r, start - now));
    }
    return fn();
  }
}
