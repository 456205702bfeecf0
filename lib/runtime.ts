/**
 * Builds the sync core from configuration: the one place that knows which adapters make up a
 * running service. The sync and reconcile Lambdas, `npm start` and `npm run reconcile` all call it.
 */
import type { SyncConfig } from './config';
import { DingTalkApi } from './dingtalk/api';
import type { Logger } from './log';
import type { Clock, StateStore } from './ports';
import { EntitySync } from './sync/entity';
import { WeComApi } from './wecom/api';

export interface SyncRuntime {
  dingtalk: DingTalkApi;
  wecom: WeComApi;
  sync: EntitySync;
}

export function createSyncRuntime(config: SyncConfig, deps: { store: StateStore; logger?: Logger; clock?: Clock; timeoutMs?: number }): SyncRuntime {
  const dingtalk = new DingTalkApi({
    appKey: config.dingtalkAppKey,
    appSecret: config.dingtalkAppSecret,
    baseUrl: config.dingtalkApiBase,
    timeoutMs: deps.timeoutMs,
    logger: deps.logger,
    clock: deps.clock,
  });
  const wecom = new WeComApi({
    corpId: config.wecomCorpId,
    secret: config.wecomContactSecret,
    baseUrl: config.wecomApiBase,
    timeoutMs: deps.timeoutMs,
    logger: deps.logger,
    clock: deps.clock,
  });
  const sync = new EntitySync({ dingtalk, wecom, store: deps.store, config, clock: deps.clock, logger: deps.logger });
  return { dingtalk, wecom, sync };
}
