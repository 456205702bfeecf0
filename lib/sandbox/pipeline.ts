/**
 * The whole pipeline against the simulators, over real HTTP on loopback: DingTalk simulator →
 * signed push → callback handler behind the local dev server → in-process FIFO queue → sync
 * worker → WeCom simulator, with the embedded state store. For end-to-end tests and the figures
 * script; `npm start` runs the same service (lib/compose/local.ts) as a long-running process.
 */
import type { Server } from 'node:http';
import type { SyncCore } from '../compose/core';
import { composeLocalService } from '../compose/local';
import type { DingTalkApi } from '../dingtalk/api';
import type { HistoryStore } from '../history/history';
import { startDevServer } from '../local/dev-server';
import type { FileStateStore } from '../local/file-store';
import type { InProcessQueue } from '../local/memory-queue';
import { drain } from '../local/worker-loop';
import { createMemoryLogger } from '../log';
import type { MetricsRecorder } from '../metrics/metrics';
import type { RateSettings } from '../rate-budget';
import type { FailureIndex } from '../status/failures';
import type { EntitySync } from '../sync/entity';
import type { SyncBatchResult } from '../sync/worker';
import type { WeComApi } from '../wecom/api';
import type { DingTalkSimulator } from './dingtalk-sim';
import { SANDBOX_ENV } from './seed';
import type { WeComSimulator } from './wecom-sim';

export interface SandboxPipeline {
  dt: DingTalkSimulator;
  wc: WeComSimulator;
  dingtalk: DingTalkApi;
  wecom: WeComApi;
  queue: InProcessQueue;
  store: FileStateStore;
  history: HistoryStore;
  failures: FailureIndex;
  sync: EntitySync;
  logger: ReturnType<typeof createMemoryLogger>;
  /** The rate settings the service runs with (pacing, and the worker loop's concurrency). */
  rates: RateSettings;
  /** Waits for the simulator's pushes, then runs the worker until the queue is empty. */
  settle(): Promise<SyncBatchResult[]>;
  /** Runs exactly one worker batch. */
  process: SyncCore['processBatch'];
  close(): Promise<void>;
}

export interface SandboxPipelineOptions {
  seed?: boolean;
  timeoutMs?: number;
  /** The worker's start reserve: 0 lets an invocation too short for a whole record still start one. */
  startReserveMs?: number;
  /**
   * The platforms' rate limits enforced by the simulators (DingTalk 20 calls/s, WeCom 10,000/min
   * per API) and every call paced under them, as `npm start` runs. Default false: no limits and
   * no pacing, for tests that count calls rather than time them.
   */
  rateLimits?: boolean;
  metrics?: MetricsRecorder;
}

export async function startSandboxPipeline(env: Record<string, string> = {}, opts: SandboxPipelineOptions = {}): Promise<SandboxPipeline> {
  const logger = createMemoryLogger();
  const limits = opts.rateLimits ? {} : { dingtalk: { rateLimitPerSecond: null }, wecom: { rateLimitPerMinute: null } };
  const service = await composeLocalService(
    {},
    {
      sandbox: true,
      simulators: { dingtalk: { retryDelaysMs: [], ...limits.dingtalk }, wecom: { ...limits.wecom }, seed: opts.seed },
      overrides: { CALLBACK_MAX_SKEW_SECONDS: '300', ...env },
      logger,
      timeoutMs: opts.timeoutMs,
      startReserveMs: opts.startReserveMs,
      pacing: opts.rateLimits ?? false,
      metrics: opts.metrics,
    },
  );
  const { dingtalk: dt, wecom: wc } = service.sims!;
  const { server, url } = await startDevServer([{ method: 'POST', path: '/dingtalk/callback', handler: service.callbackHandler() }], 0);
  dt.setCallback({
    url: `${url}/dingtalk/callback`,
    token: SANDBOX_ENV.DINGTALK_TOKEN,
    aesKey: SANDBOX_ENV.DINGTALK_AES_KEY,
    ownerKey: SANDBOX_ENV.DINGTALK_OWNER_KEY,
  });
  const queue = service.localQueue!;
  return {
    dt,
    wc,
    dingtalk: service.dingtalk,
    wecom: service.wecom,
    queue,
    store: service.store as FileStateStore,
    history: service.history,
    failures: service.failures,
    sync: service.sync,
    logger,
    rates: service.rates,
    process: service.processBatch,
    async settle() {
      await dt.idle();
      return drain(queue, service.processBatch, 50);
    },
    async close() {
      await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
      await service.close();
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
