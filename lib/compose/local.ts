/**
 * The service as it runs on one machine: `npm start`, `npm run reconcile`, the benchmarks, and
 * the test rigs. Same sync core as in AWS; around it, the in-process queue (or SQS when
 * QUEUE_URL is set), the embedded state store (or DynamoDB when STATE_TABLE is set), and —
 * when no DingTalk/WeCom credentials are set — the two simulators on loopback.
 */

import { DynamoHistoryStore } from '../aws/dynamo-history';
import { DynamoStateStore } from '../aws/dynamo-store';
import { SqsQueueStatus } from '../aws/queue-status';
import { SqsChangeQueue } from '../aws/sqs-queue';
import { type CallbackConfig, ConfigError, type DeploymentConfig, loadCallbackConfig, loadDeploymentConfig, loadRateSettings, loadSyncConfig } from '../config';
import { createCallbackHandler } from '../dingtalk/receiver';
import { loadHistoryTtlDays } from '../history/config';
import type { HistoryStore } from '../history/history';
import { FileHistoryStore, historyFileFor } from '../local/file-history';
import { FileStateStore } from '../local/file-store';
import { InProcessQueue } from '../local/memory-queue';
import type { Logger } from '../log';
import type { MetricsRecorder } from '../metrics/metrics';
import type { ChangeQueue, Clock, StateStore } from '../ports';
import { budgetsFor, type RateSettings } from '../rate-budget';
import { type Simulators, type SimulatorsOptions, startSimulators } from '../sandbox/simulators';
import { type FailureIndex, scanOpenFailures } from '../status/failures';
import { type Operations, operationsOf } from '../status/operations';
import { composeSyncCore, type SyncCore } from './core';

/** The platform credentials: all of them for the real APIs, none for the sandbox. */
const CREDENTIALS = ['DINGTALK_APP_KEY', 'DINGTALK_APP_SECRET', 'WECOM_CORP_ID', 'WECOM_CONTACT_SECRET'] as const;

type Env = Record<string, string | undefined>;

export interface LocalServiceOptions {
  /**
   * `auto` (default): the simulators when none of the platform credentials is set, the real
   * APIs when all are, and a ConfigError naming the first missing one otherwise. `true`: always
   * the simulators (their settings override the environment's); `false`: never.
   */
  sandbox?: boolean | 'auto';
  /** Options for the simulators, when they run. */
  simulators?: SimulatorsOptions;
  /**
   * Keep state in a file (STATE_FILE, default .data/state.json) or in DynamoDB (STATE_TABLE)
   * rather than in memory. Default: with the real APIs, yes; with the simulators, no — their
   * WeCom forgets everything on restart, so the state must too.
   */
  persistState?: boolean;
  /** Settings that win over both the environment and the simulators' (tests' sync policies). */
  overrides?: Env;
  logger?: Logger;
  clock?: Clock;
  /** Per-call HTTP timeout for both platforms. */
  timeoutMs?: number;
  /** The worker's start reserve (lib/sync/worker.ts); tests of very short invocations lower it. */
  startReserveMs?: number;
  /**
   * Pace every platform call under the rate settings (default true). This process runs every
   * worker there is, so it takes the whole budget. Tests against simulators without limits may
   * turn it off.
   */
  pacing?: boolean;
  /** Outcome, throttle and callback metrics (none: not recorded). */
  metrics?: MetricsRecorder;
}

export interface LocalService extends SyncCore {
  history: HistoryStore;
  /** The open permanent failures, for the status. */
  failures: FailureIndex;
  /** The environment the service was configured from, with the simulators' settings when they run. */
  env: Env;
  deployment: DeploymentConfig;
  /** The platforms' budgets and how many batches the local worker loop runs at once (SYNC_MAX_CONCURRENCY). */
  rates: RateSettings;
  /** Where change messages go: SQS when QUEUE_URL is set, else `localQueue`. */
  queue: ChangeQueue;
  /** The in-process queue, when no QUEUE_URL is set: the local worker loop drains it. */
  localQueue?: InProcessQueue;
  /** The running simulators in sandbox mode. */
  sims?: Simulators;
  /** The callback's configuration (DINGTALK_TOKEN, DINGTALK_AES_KEY, …): only the servers need it. */
  callbackConfig(): CallbackConfig;
  /** What `GET /status` and `GET /history/…` answer: the in-process queue (or SQS), the store, the history. */
  operations(): Operations;
  /** The DingTalk callback, enqueueing onto `queue`: what the callback Lambda runs. */
  callbackHandler(): ReturnType<typeof createCallbackHandler>;
  /** Stops the simulators; the store and queue need no closing. */
  close(): Promise<void>;
}

export async function composeLocalService(env: Env = process.env, opts: LocalServiceOptions = {}): Promise<LocalService> {
  const sandbox = opts.sandbox === 'auto' || opts.sandbox === undefined ? wantsSandbox(env) : opts.sandbox;
  const sims = sandbox ? await startSimulators(opts.simulators) : undefined;
  // The sandbox runs entirely on this machine: never against a real queue or table.
  const effective: Env = sims ? { ...env, ...sims.env, QUEUE_URL: '', STATE_TABLE: '', ...opts.overrides } : { ...env, ...opts.overrides };
  try {
    const config = loadSyncConfig(effective);
    const deployment = loadDeploymentConfig(effective);
    const rates = loadRateSettings(effective);
    const persist = opts.persistState ?? !sandbox;
    const store = stateStoreFor(deployment, persist);
    const ttlDays = loadHistoryTtlDays(effective);
    const dynamoHistory =
      persist && deployment.stateTable ? new DynamoHistoryStore({ tableName: deployment.stateTable, ttlDays, clock: opts.clock }) : undefined;
    const history = dynamoHistory ?? new FileHistoryStore(persist ? historyFileFor(deployment.stateFile) : undefined, { ttlDays, clock: opts.clock });
    const failures = dynamoHistory ?? scanOpenFailures(store);
    const localQueue = deployment.queueUrl ? undefined : new InProcessQueue({ clock: opts.clock });
    const queue: ChangeQueue = localQueue ?? new SqsChangeQueue({ queueUrl: deployment.queueUrl! });
    const { metrics } = opts;
    const core = composeSyncCore(config, {
      store,
      logger: opts.logger,
      clock: opts.clock,
      timeoutMs: opts.timeoutMs,
      startReserveMs: opts.startReserveMs,
      budgets: opts.pacing === false ? undefined : budgetsFor(rates, 'whole'),
      requeueTo: () => queue,
      history,
      metrics,
    });
    const callbackConfig = () => loadCallbackConfig(effective);
    return {
      ...core,
      history,
      failures,
      env: effective,
      deployment,
      rates,
      queue,
      localQueue,
      sims,
      callbackConfig,
      operations: () =>
        operationsOf({
          queue: localQueue ?? new SqsQueueStatus({ queueUrl: deployment.queueUrl!, deadLetterQueueUrl: deployment.deadLetterQueueUrl }),
          reports: store,
          failures,
          history,
        }),
      callbackHandler: () => createCallbackHandler({ config: callbackConfig(), queue, logger: opts.logger, metrics }),
      close: async () => {
        if (history instanceof FileHistoryStore) await history.settled();
        await sims?.stop();
      },
    };
  } catch (e) {
    await sims?.stop();
    throw e;
  }
}

function wantsSandbox(env: Env): boolean {
  const missing = CREDENTIALS.filter((name) => !env[name]);
  if (missing.length === CREDENTIALS.length) return true;
  if (missing.length > 0) {
    throw new ConfigError(missing[0]!, `is not set (set all of ${CREDENTIALS.join(', ')} for real APIs, or none for the sandbox)`);
  }
  return false;
}

function stateStoreFor(deployment: DeploymentConfig, persist: boolean): StateStore {
  if (!persist) return new FileStateStore(undefined);
  if (deployment.stateTable) return new DynamoStateStore({ tableName: deployment.stateTable });
  return new FileStateStore(deployment.stateFile);
}
