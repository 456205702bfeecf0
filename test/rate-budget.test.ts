import { describe, expect, it } from 'vitest';
import { budgetsFor, RateBudget, shareOfBudget, TokenBucket } from '../lib/rate-budget';

/** A clock that moves only when told to, and a wait that moves it: no real time passes. */
function manualTime(start = 1_000_000) {
  let now = start;
  const waits: number[] = [];
  return {
    clock: { now: () => now },
    wait: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    waits,
  };
}

describe('TokenBucket', () => {
  it('spaces calls evenly at its rate once its capacity is used, in the order they asked', () => {
    const bucket = new TokenBucket(20, 1, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 50, 100, 150]);
  });

  it('refills with time, never beyond its capacity', () => {
    const bucket = new TokenBucket(10, 2, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 100]);
    // A long quiet spell gives back two tokens, not fifty.
    expect([bucket.take(5_000), bucket.take(5_000), bucket.take(5_000)]).toEqual([0, 0, 100]);
  });

  it('tells the wait without taking a token', () => {
    const bucket = new TokenBucket(4, 1, 0);
    bucket.take(0);
    expect(bucket.waitMs(0)).toBe(250);
    expect(bucket.waitMs(100)).toBe(150);
    expect(bucket.take(100)).toBe(150);
  });

  it('hands out nothing for the length of a pause, leaving tokens already promised where they were', () => {
    const bucket = new TokenBucket(10, 1, 0);
    expect(bucket.take(0)).toBe(0);
    bucket.pause(0, 1_000);
    expect(bucket.take(0)).toBe(1_000);
    expect(bucket.take(0)).toBe(1_100);
    // A pause shorter than what is already queued changes nothing.
    bucket.pause(0, 500);
    expect(bucket.take(0)).toBe(1_200);
  });

  it('refuses a rate or capacity that could never hand out a token', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(5, 0.5, 0)).toThrow(RangeError);
  });
});

describe('RateBudget', () => {
  it('keeps one bucket per API: one API waiting does not hold up another', async () => {
    const t = manualTime();
    const budget = new RateBudget({ perSecond: 2, clock: t.clock, wait: t.wait });
    await budget.take('user/get');
    await budget.take('department/get');
    await budget.take('user/get');
    expect(t.waits).toEqual([500]);
  });

  it('refuses a slot that would come after the deadline, taking nothing, so the caller can hand its work back', async () => {
    const t = manualTime();
    const budget = new RateBudget({ perSecond: 1, clock: t.clock, wait: t.wait });
    expect(await budget.take('user/get', t.clock.now() + 100)).toBe(true);
    expect(await budget.take('user/get', t.clock.now() + 999)).toBe(false);
    expect(t.waits).toEqual([]);
    // The refused slot was not taken: the next caller gets it.
    expect(await budget.take('user/get', t.clock.now() + 1_000)).toBe(true);
    expect(t.waits).toEqual([1_000]);
  });

  it('pauses one API for every caller after the platform said "too many"', async () => {
    const t = manualTime();
    const budget = new RateBudget({ perSecond: 100, clock: t.clock, wait: t.wait });
    await budget.take('user/get');
    budget.pause('user/get', 1_000);
    await budget.take('user/get');
    await budget.take('department/get');
    expect(t.waits).toEqual([1_000]);
  });

  it('fails at once on a rate that could never hand out a token', () => {
    expect(() => new RateBudget({ perSecond: 0 })).toThrow(RangeError);
  });
});

describe('shareOfBudget: one app-wide limit split between the processes that share it', () => {
  const settings = { dingtalkCallsPerSecond: 18, wecomCallsPerMinute: 9_000, syncMaxConcurrency: 5, reconcileRateShare: 2 };

  it('gives each sync worker one share and the reconcile its shares, of syncMaxConcurrency + reconcileRateShare', () => {
    expect(shareOfBudget(settings, 'sync-worker')).toBeCloseTo(1 / 7);
    expect(shareOfBudget(settings, 'reconcile')).toBeCloseTo(2 / 7);
    // All of them running at once spend the whole budget, and no more.
    expect(5 * shareOfBudget(settings, 'sync-worker') + shareOfBudget(settings, 'reconcile')).toBeCloseTo(1);
  });

  it('gives a process that hosts every worker (npm start, the scripts) the whole budget', () => {
    expect(shareOfBudget(settings, 'whole')).toBe(1);
  });

  it('turns the shares into per-API rates for both platforms', () => {
    const worker = budgetsFor(settings, 'sync-worker');
    expect(worker.dingtalk.perSecond).toBeCloseTo(18 / 7);
    expect(worker.wecom.perSecond).toBeCloseTo(150 / 7);
    const reconcile = budgetsFor(settings, 'reconcile');
    expect(reconcile.dingtalk.perSecond).toBeCloseTo(36 / 7);
  });
});
