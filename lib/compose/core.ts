/**
 * The sync core, built from configuration the same way in every environment: the DingTalk read
 * client, the WeCom write client, EntitySync, the worker's batch processor, and the reconcile's
 * dependencies. Only the adapters around it differ (lib/compose/aws.ts, lib/compose/local.ts).
 */
import type { SyncConfig } from '../config';
import { DingTalkApi } from '../dingtalk/api';
import type { HistoryStore } from '../history/history';
import type { Logger } from '../log';
import { METRIC, type MetricsRecorder } from '../metrics/metrics';
import type { ChangeQueue, Clock, StateStore } from '../ports';
import type { PlatformBudgets } from '../rate-budget';
import { EntitySync } from '../sync/entity';
import type { ReconcileDeps } from '../sync/reconcile';
import { requeueingThrottled } from '../sync/throttle-requeue';
import { sendingWaitingReports } from '../sync/waiting-reports';
import { createSyncBatchProcessor } from '../sync/worker';
import { withTrailFields } from '../trail/context';
import { WeComApi } from '../wecom/api';

export interface SyncCore {
  config: SyncConfig;
  store: StateStore;
  /** Each entity's outcomes (absent: outcomes are only logged). */
  history?: HistoryStore;
  dingtalk: DingTalkApi;
  wecom: WeComApi;
  sync: EntitySync;
  /** The worker: one SQS batch (or the in-process queue's equivalent) in, partial response out. */
  processBatch: ReturnType<typeof createSyncBatchProcessor>;
  /** What the reconcile needs, with failed-push sweep messages going to `queue`. */
  reconcileDeps(queue: ChangeQueue): ReconcileDeps;
}

export interface SyncCoreOptions {
  store: StateStore;
  logger?: Logger;
  clock?: Clock;
  /** Per-call HTTP timeout for both platforms (the clients' default otherwise). */
  timeoutMs?: number;
  /** This process's share of each platform's rate limit (lib/rate-budget.ts); none: calls are not paced. */
  budgets?: PlatformBudgets;
  /**
   * The change queue the worker's messages come from: a change still throttled when its
   * invocation's time runs out is sent back there as a new message (lib/sync/throttle-requeue.ts).
   * None: it is thrown, and its message comes back as a failure.
   */
  requeueTo?: () => ChangeQueue;
  /**
   * Where the people waiting for a manager who can lead now are sent (lib/sync/waiting-reports.ts):
   * `requeueTo` unless given. None: they are left to the reconcile.
   */
  waitingReportsTo?: () => ChangeQueue;
  /** The worker starts no record with less than this left before the invocation's deadline (its default otherwise). */
  startReserveMs?: number;

  history?: HistoryStore;
  /** Sync outcomes, propagation latency and throttles; flushed by the entry point. */
  metrics?: MetricsRecorder;
}

export function composeSyncCore(config: SyncConfig, opts: SyncCoreOptions): SyncCore {
  const { store, clock, timeoutMs, budgets, requeueTo, startReserveMs, history, metrics } = opts;
  // Every line logged while a change is synced carries its trail (correlation id, entity, trigger).
  const logger = opts.logger && withTrailFields(opts.logger);
  const onThrottle = metrics && ((platform: string) => metrics.add(METRIC.throttles, 'Count', 1, { Platform: platform }));
  const dingtalk = new DingTalkApi({
    appKey: config.dingtalkAppKey,
    appSecret: config.dingtalkAppSecret,
    baseUrl: config.dingtalkApiBase,
    timeoutMs,
    logger,
    clock,
    budget: budgets?.dingtalk,
    onThrottle,
  });
  const wecom = new WeComApi({
    corpId: config.wecomCorpId,
    secret: config.wecomContactSecret,
    baseUrl: config.wecomApiBase,
    timeoutMs,
    logger,
    clock,
    budget: budgets?.wecom,
    onThrottle,
  });
  const sync = new EntitySync({ dingtalk, wecom, store, config, clock, logger, history, metrics });
  const throttled = requeueTo ? requeueingThrottled(sync, { queue: requeueTo, clock, logger }) : sync;
  const waitingReportsTo = opts.waitingReportsTo ?? requeueTo;
  const worker = waitingReportsTo ? sendingWaitingReports(throttled, { store, queue: waitingReportsTo, clock, logger }) : throttled;
  return {
    config,
    store,
    history,
    dingtalk,
    wecom,
    sync,
    processBatch: createSyncBatchProcessor(worker, logger, { startReserveMs }),
    reconcileDeps: (queue) => ({ dingtalk, wecom, store, sync, queue, config, clock, logger }),
  };
}
