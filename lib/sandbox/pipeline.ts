/**
 * The whole pipeline against the simulators, over real HTTP on loopback: DingTalk simulator →
 * signed push → callback handler behind the local dev server → in-process FIFO queue → sync
 * worker → WeCom simulator, with the embedded state store. For end-to-end tests and the figures
 * script; `npm start` wires the same parts for a long-running process.
 */
import type { Server } from 'node:http';
import { loadCallbackConfig, loadSyncConfig } from '../config';
import type { DingTalkApi } from '../dingtalk/api';
import { createCallbackHandler } from '../dingtalk/receiver';
import { startDevServer } from '../local/dev-server';
import { FileStateStore } from '../local/file-store';
import { InProcessQueue } from '../local/memory-queue';
import { drain } from '../local/worker-loop';
import { createMemoryLogger } from '../log';
import { createSyncRuntime } from '../runtime';
import type { EntitySync } from '../sync/entity';
import { createSyncBatchProcessor, type SyncBatchResult } from '../sync/worker';
import type { WeComApi } from '../wecom/api';
import type { DingTalkSimulator } from './dingtalk-sim';
import { SANDBOX_ENV } from './seed';
import { startSimulators } from './simulators';
import type { WeComSimulator } from './wecom-sim';

export interface SandboxPipeline {
  dt: DingTalkSimulator;
  wc: WeComSimulator;
  dingtalk: DingTalkApi;
  wecom: WeComApi;
  queue: InProcessQueue;
  store: FileStateStore;
  sync: EntitySync;
  logger: ReturnType<typeof createMemoryLogger>;
  /** Waits for the simulator's pushes, then runs the worker until the queue is empty. */
  settle(): Promise<SyncBatchResult[]>;
  /** Runs exactly one worker batch. */
  process: ReturnType<typeof createSyncBatchProcessor>;
  close(): Promise<void>;
}

export async function startSandboxPipeline(env: Record<string, string> = {}, opts: { seed?: boolean; timeoutMs?: number } = {}): Promise<SandboxPipeline> {
  const sims = await startSimulators({ dingtalk: { retryDelaysMs: [] }, wecom: { rateLimitPerMinute: null }, seed: opts.seed });
  const { dingtalk: dt, wecom: wc } = sims;
  const fullEnv = { ...sims.env, CALLBACK_MAX_SKEW_SECONDS: '300', ...env };
  const syncConfig = loadSyncConfig(fullEnv);
  const logger = createMemoryLogger();
  const store = new FileStateStore(undefined);
  const queue = new InProcessQueue();
  const { dingtalk, wecom, sync } = createSyncRuntime(syncConfig, { store, logger, timeoutMs: opts.timeoutMs });
  const process = createSyncBatchProcessor(sync, logger);
  const handler = createCallbackHandler({ config: loadCallbackConfig(fullEnv), queue, logger });
  const { server, url } = await startDevServer([{ method: 'POST', path: '/dingtalk/callback', handler }], 0);
  dt.setCallback({
    url: `${url}/dingtalk/callback`,
    token: SANDBOX_ENV.DINGTALK_TOKEN,
    aesKey: SANDBOX_ENV.DINGTALK_AES_KEY,
    ownerKey: SANDBOX_ENV.DINGTALK_OWNER_KEY,
  });
  return {
    dt,
    wc,
    dingtalk,
    wecom,
    queue,
    store,
    sync,
    logger,
    process,
    async settle() {
      await dt.idle();
      return drain(queue, process, 50);
    },
    async close() {
      await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
      await sims.stop();
    },
  };
}

/** WeCom writes counted by the simulator: every contact API but the token and the id lists. */
export function wecomWrites(wc: WeComSimulator): number {
  return Object.entries(wc.calls)
    .filter(([api]) => /^(user|department)\/(create|update|delete|batchdelete)$/.test(api))
    .reduce((n, [, c]) => n + c, 0);
}

export function dingtalkReads(dt: DingTalkSimulator): number {
  return Object.entries(dt.calls)
    .filter(([api]) => api !== 'gettoken')
    .reduce((n, [, c]) => n + c, 0);
}
