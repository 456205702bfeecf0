/**
 * The reconcile Lambda: on its EventBridge schedule (an apply run) or invoked by hand, e.g.
 * `npx serverless invoke -f reconcile -d '{"dryRun":true}'`, which returns the plan summary.
 */
import { DynamoStateStore } from '../lib/aws/dynamo-store';
import { SqsChangeQueue } from '../lib/aws/sqs-queue';
import { environmentWithSecrets } from '../lib/aws/ssm-secrets';
import { ConfigError, loadSyncConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { createSyncRuntime } from '../lib/runtime';
import { runReconcile } from '../lib/sync/reconcile';
import { summarisePlan } from '../lib/sync/plan-table';

const logger = createLogger('reconcile');

export interface ReconcileEvent {
  dryRun?: boolean;
  allowDeletes?: boolean;
  rewriteAll?: boolean;
}

export async function handler(event: ReconcileEvent | Record<string, unknown> = {}) {
  const env = await environmentWithSecrets();
  const config = loadSyncConfig(env);
  if (!env.STATE_TABLE) throw new ConfigError('STATE_TABLE', 'is not set');
  if (!env.QUEUE_URL) throw new ConfigError('QUEUE_URL', 'is not set');
  const store = new DynamoStateStore({ tableName: env.STATE_TABLE });
  const { dingtalk, wecom, sync } = createSyncRuntime(config, { store, logger });
  // A scheduled event carries EventBridge's own fields: only explicit `true` flags count.
  const opts = { dryRun: event.dryRun === true, allowDeletes: event.allowDeletes === true, rewriteAll: event.rewriteAll === true };
  const { report, plan, timings } = await runReconcile(
    { dingtalk, wecom, store, sync, queue: new SqsChangeQueue({ queueUrl: env.QUEUE_URL }), config, logger },
    opts,
  );
  logger.info('reconcile report', { ...report, timings });
  return { ...report, plan: plan ? summarisePlan(plan.ops) : undefined };
}
