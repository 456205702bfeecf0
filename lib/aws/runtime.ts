/**
 * The sync core as the workers run in AWS: secrets from SSM layered under the environment, the
 * DynamoDB state table, and the clients and EntitySync from createSyncRuntime. Shared by the
 * sync and reconcile Lambdas so both fail the same way, naming the variable, when misconfigured.
 */
import { ConfigError, loadSyncConfig, type SyncConfig } from '../config';
import type { Logger } from '../log';
import { createSyncRuntime, type SyncRuntime } from '../runtime';
import { DynamoStateStore } from './dynamo-store';
import { environmentWithSecrets } from './ssm-secrets';

export interface AwsSyncRuntime extends SyncRuntime {
  env: Record<string, string | undefined>;
  config: SyncConfig;
  store: DynamoStateStore;
}

export async function createAwsSyncRuntime(logger: Logger): Promise<AwsSyncRuntime> {
  const env = await environmentWithSecrets();
  const config = loadSyncConfig(env);
  if (!env.STATE_TABLE) throw new ConfigError('STATE_TABLE', 'is not set');
  const store = new DynamoStateStore({ tableName: env.STATE_TABLE });
  return { env, config, store, ...createSyncRuntime(config, { store, logger }) };
}
