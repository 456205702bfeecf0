/**
 * The sync core, built from configuration the same way in every environment: the DingTalk read
 * client, the WeCom write client, EntitySync, the worker's batch processor, and the reconcile's
 * dependencies. Only the adapters around it differ (lib/compose/aws.ts, lib/compose/local.ts).
 */
import type { SyncConfig } from '../config';
import { DingTalkApi } from '../dingtalk/api';
import type { Logger } from '../log';
import type { ChangeQueue, Clock, StateStore } from '../ports';
import type { PlatformBudgets } from '../rate-budget';
import { EntitySync } from '../sync/entity';
import type { ReconcileDeps } from '../sync/reconcile';
import { requeueingThrottled } from '../sync/throttle-requeue';
import { createSyncBatchProcessor } from '../sync/worker';
import { WeComApi } from '../wecom/api';

export interface SyncCore {
  config: SyncConfig;
  store: StateStore;
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
  /** The worker starts no record with less than this left before the invocation's deadline (its default otherwise). */
  startReserveMs?: number;
}

export function composeSyncCore(config: SyncConfig, opts: SyncCoreOptions): SyncCore {
  const { store, logger, clock, timeoutMs, budgets, requeueTo, startReserveMs } = opts;
  const dingtalk = new DingTalkApi({
    appKey: config.dingtalkAppKey,
    appSecret: config.dingtalkAppSecret,
    baseUrl: config.dingtalkApiBase,
    timeoutMs,
    logger,
    clock,
    budget: budgets?.dingtalk,
  });
  const wecom = new WeComApi({
    corpId: config.wecomCorpId,
    secret: config.wecomContactSecret,
    baseUrl: config.wecomApiBase,
    timeoutMs,
    logger,
    clock,
    budget: budgets?.wecom,
  });
  const sync = new EntitySync({ dingtalk, wecom, store, config, clock, logger });
  const worker = requeueTo ? requeueingThrottled(sync, { queue: requeueTo, clock, logger }) : sync;
  return {
    config,
    store,
    dingtalk,
    wecom,
    sync,
    processBatch: createSyncBatchProcessor(worker, logger, { startReserveMs }),
    reconcileDeps: (queue) => ({ dingtalk, wecom, store, sync, queue, config, clock, logger }),
  };
}
