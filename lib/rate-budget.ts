/**
 * The one pacing mechanism of the service: a token bucket per API, per process, that every call
 * to DingTalk or WeCom takes a token from (lib/platform-http.ts) before it is sent.
 *
 * Both platforms count calls per app (DingTalk: 20/s per API) or per company (WeCom: 10,000/min
 * per API) for the whole fleet: every concurrent sync Lambda and the reconcile share one limit,
 * and none of them can see the others. So each process is given a fixed share of the budget
 * (`shareOfBudget`): the sync workers one share each, the reconcile `RECONCILE_RATE_SHARE`
 * shares, of `SYNC_MAX_CONCURRENCY + RECONCILE_RATE_SHARE`. A process that hosts every worker
 * (`npm start`, the scripts) takes the whole budget.
 *
 * Pure scheduling: the clock and the wait are injected, so the arithmetic is tested with a
 * manual clock.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Clock, systemClock } from './ports';

/**
 * One API's bucket: `capacity` tokens, refilled at `perSecond`. A token may be taken on credit
 * (the count goes negative): the caller is told how long to wait for it, and later callers queue
 * behind, so calls start evenly spaced in the order they asked.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly perSecond: number,
    readonly capacity: number,
    now: number,
  ) {
    if (!(perSecond > 0)) throw new RangeError('perSecond must be positive');
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Milliseconds until a token taken now would be due (0: at once), without taking it. */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.perSecond) * 1000;
  }

  /** Takes a token; returns the milliseconds to wait before using it (0: at once). */
  take(now: number): number {
    const wait = this.waitMs(now);
    this.tokens -= 1;
    return wait;
  }

  /**
   * The platform said "too many": nothing more is handed out for `ms` from now. Tokens already
   * promised keep their time (their callers are waiting already); only later ones move.
   */
  pause(now: number, ms: number): void {
    this.refill(now);
    this.tokens = Math.min(this.tokens, 1 - (ms / 1000) * this.perSecond);
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
      this.updatedAt = now;
    }
  }
}

export interface RateBudgetOptions {
  /** Calls per second per API for this process. */
  perSecond: number;
  /** Calls that may start at once after a quiet spell; default 1 (evenly spaced, never a burst). */
  capacity?: number;
  clock?: Clock;
  /** How a wait is waited; tests pass one that moves a manual clock. */
  wait?: (ms: number) => Promise<void>;
}

/** Per-API token buckets for one platform in one process. */
export class RateBudget {
  readonly perSecond: number;
  private readonly capacity: number;
  private readonly clock: Clock;
  private readonly wait: (ms: number) => Promise<void>;
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(opts: RateBudgetOptions) {
    this.perSecond = opts.perSecond;
    this.capacity = opts.capacity ?? 1;
    this.clock = opts.clock ?? systemClock;
    this.wait = opts.wait ?? ((ms) => sleep(ms));
    // Fails here, on a wrong setting, rather than on the first call.
    new TokenBucket(this.perSecond, this.capacity, 0);
  }

  /**
   * Waits for this API's next call slot and resolves true. With `deadlineAt` (epoch ms), a slot
   * that would come later is not taken: false at once, so the caller can hand its work back while
   * it still has time to.
   */
  async take(api: string, deadlineAt?: number): Promise<boolean> {
    const bucket = this.bucket(api);
    const now = this.clock.now();
    if (deadlineAt !== undefined && now + bucket.waitMs(now) > deadlineAt) return false;
    const wait = bucket.take(now);
    if (wait > 0) await this.wait(wait);
    return true;
  }

  /** The platform refused a call to `api` as too many: later calls to it wait `ms` first. */
  pause(api: string, ms: number): void {
    this.bucket(api).pause(this.clock.now(), ms);
  }

  private bucket(api: string): TokenBucket {
    let bucket = this.buckets.get(api);
    if (!bucket) {
      bucket = new TokenBucket(this.perSecond, this.capacity, this.clock.now());
      this.buckets.set(api, bucket);
    }
    return bucket;
  }
}

/** The settings that split the platforms' limits between the processes that share them. */
export interface RateSettings {
  /** DingTalk calls per second per API for the whole app (its limit is 20). */
  dingtalkCallsPerSecond: number;
  /** WeCom calls per minute per API for the whole company (its limit is 10,000). */
  wecomCallsPerMinute: number;
  /** Sync Lambdas that may run at once: the SQS trigger's maximumConcurrency. */
  syncMaxConcurrency: number;
  /** Shares the reconcile takes, each as large as one sync worker's. */
  reconcileRateShare: number;
}

/**
 * What a process is: one sync worker (a sync Lambda), the reconcile (the reconcile Lambda), or
 * every worker at once (`npm start`'s loop and the scripts, which run alone on one machine).
 */
export type BudgetHolder = 'sync-worker' | 'reconcile' | 'whole';

/** The fraction of each platform's budget that one process of this kind may spend. */
export function shareOfBudget(settings: Pick<RateSettings, 'syncMaxConcurrency' | 'reconcileRateShare'>, holder: BudgetHolder): number {
  const shares = settings.syncMaxConcurrency + settings.reconcileRateShare;
  if (holder === 'sync-worker') return 1 / shares;
  if (holder === 'reconcile') return settings.reconcileRateShare / shares;
  return 1;
}

/** This process's buckets for both platforms. */
export interface PlatformBudgets {
  dingtalk: RateBudget;
  wecom: RateBudget;
}

export function budgetsFor(settings: RateSettings, holder: BudgetHolder, opts: Pick<RateBudgetOptions, 'clock'> = {}): PlatformBudgets {
  const share = shareOfBudget(settings, holder);
  return {
    dingtalk: new RateBudget({ perSecond: settings.dingtalkCallsPerSecond * share, clock: opts.clock }),
    wecom: new RateBudget({ perSecond: (settings.wecomCallsPerMinute / 60) * share, clock: opts.clock }),
  };
}
