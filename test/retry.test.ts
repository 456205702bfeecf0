import { describe, expect, it } from 'vitest';
import { exponentialDelays, withRetries } from '../lib/retry';

class Later extends Error {}

describe('withRetries', () => {
  it('calls again after each retryable failure until it succeeds', async () => {
    const attempts: number[] = [];
    const result = await withRetries({ delaysMs: [0, 0, 0], retryable: (e) => e instanceof Later }, async (attempt) => {
      attempts.push(attempt);
      if (attempt < 3) throw new Later();
      return 'done';
    });
    expect(result).toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('throws the last failure once the delays are used up', async () => {
    let calls = 0;
    const failing = withRetries({ delaysMs: [0, 0], retryable: () => true }, async () => {
      calls++;
      throw new Later(`call ${calls}`);
    });
    await expect(failing).rejects.toThrow('call 3');
    expect(calls).toBe(3);
  });

  it('throws a failure that is not retryable at once', async () => {
    let calls = 0;
    const failing = withRetries({ delaysMs: [0, 0], retryable: (e) => e instanceof Later }, async () => {
      calls++;
      throw new TypeError('bad input');
    });
    await expect(failing).rejects.toThrow(TypeError);
    expect(calls).toBe(1);
  });

  it('reports each retry with its attempt and delay', async () => {
    const seen: [number, number][] = [];
    await withRetries({ delaysMs: [1, 2], retryable: () => true, onRetry: (_e, attempt, delay) => seen.push([attempt, delay]) }, async (attempt) => {
      if (attempt < 3) throw new Later();
    });
    expect(seen).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('stops at once when its signal is aborted, even in the middle of a wait', async () => {
    const stop = new AbortController();
    let calls = 0;
    const failing = withRetries({ delaysMs: [60_000, 60_000], retryable: () => true, signal: stop.signal }, async () => {
      calls++;
      throw new Later(`call ${calls}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    stop.abort();
    await expect(failing).rejects.toThrow('call 1');
    expect(calls).toBe(1);
    // Already aborted: the first failure is the last, without waiting.
    await expect(
      withRetries({ delaysMs: [60_000], retryable: () => true, signal: stop.signal }, async () => Promise.reject(new Later('once'))),
    ).rejects.toThrow('once');
  });
});

describe('withRetries with a deadline', () => {
  it('makes no retry whose wait would end after the deadline, and throws the last failure at once', async () => {
    let now = 1_000;
    let calls = 0;
    const failing = withRetries({ delaysMs: [0, 500, 500], retryable: () => true, deadlineAt: 1_400, now: () => now }, async () => {
      calls++;
      now += 100;
      throw new Later(`call ${calls}`);
    });
    // Call 1 at 1000 (+0 wait), call 2 at 1100: a 500 ms wait from 1200 would end at 1700, past 1400.
    await expect(failing).rejects.toThrow('call 2');
    expect(calls).toBe(2);
  });
});

describe('exponentialDelays', () => {
  it('doubles from the first delay', () => {
    expect(exponentialDelays(3, 50)).toEqual([50, 100, 200]);
    expect(exponentialDelays(0, 50)).toEqual([]);
  });
});
