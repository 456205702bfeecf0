/**
 * The service as the worker Lambdas (sync, reconcile) run it: secrets from SSM layered under the
 * environment, the DynamoDB state table, the SQS change queue, and the sync core. The callback
 * Lambda does not come here: it keeps its own few lines of wiring so its bundle stays small.
 */

import { DynamoHistoryStore } from '../aws/dynamo-history';
import { DynamoStateStore } from '../aws/dynamo-store';
import { SqsChangeQueue } from '../aws/sqs-queue';
import { environmentWithSecrets } from '../aws/ssm-secrets';
import { type DeploymentConfig, loadDeploymentConfig, loadRateSettings, loadSyncConfig, requireSetting } from '../config';
import { loadHistoryTtlDays } from '../history/config';
import type { Logger } from '../log';
import type { MetricsRecorder } from '../metrics/metrics';
import type { ChangeQueue } from '../ports';
import { type BudgetHolder, budgetsFor } from '../rate-budget';
import { composeSyncCore, type SyncCore } from './core';

export interface AwsService extends SyncCore {
  deployment: DeploymentConfig;
  /** The change queue; throws ConfigError naming QUEUE_URL when the stack did not set it. */
  queue(): ChangeQueue;
}

/**
 * Fails with a ConfigError naming the variable when a setting is missing or wrong. `holder`: the
 * Lambda's share of the platforms' rate limits (one sync worker's, or the reconcile's). `metrics`
 * is the entry point's, which flushes it once per invocation.
 */
export async function composeAwsService(
  logger: Logger,
  holder: Exclude<BudgetHolder, 'whole'> = 'sync-worker',
  metrics?: MetricsRecorder,
): Promise<AwsService> {
  const env = await environmentWithSecrets();
  const config = loadSyncConfig(env);
  const deployment = loadDeploymentConfig(env);
  const budgets = budgetsFor(loadRateSettings(env), holder);
  const tableName = requireSetting(deployment.stateTable, 'STATE_TABLE');
  const store = new DynamoStateStore({ tableName });
  const history = new DynamoHistoryStore({ tableName, ttlDays: loadHistoryTtlDays(env) });
  let changeQueue: ChangeQueue | undefined;
  const queue = () => {
    changeQueue ??= new SqsChangeQueue({ queueUrl: requireSetting(deployment.queueUrl, 'QUEUE_URL') });
    return changeQueue;
  };
  return { ...composeSyncCore(config, { store, logger, budgets, requeueTo: queue, history, metrics }), deployment, queue };
}
