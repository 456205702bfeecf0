/**
 * The reconcile Lambda: on its EventBridge schedule (an apply run) or invoked by hand, e.g.
 * `npx serverless invoke -f reconcile -d '{"dryRun":true}'`, which returns the plan summary.
 */
import { createAwsSyncRuntime } from '../lib/aws/runtime';
import { SqsChangeQueue } from '../lib/aws/sqs-queue';
import { ConfigError } from '../lib/config';
import { createLogger } from '../lib/log';
import { summarisePlan } from '../lib/sync/plan-table';
import { runReconcile } from '../lib/sync/reconcile';

const logger = createLogger('reconcile');

export interface ReconcileEvent {
  dryRun?: boolean;
  allowDeletes?: boolean;
  rewriteAll?: boolean;
}

export async function handler(event: ReconcileEvent | Record<string, unknown> = {}) {
  const { env, config, store, dingtalk, wecom, sync } = await createAwsSyncRuntime(logger);
  if (!env.QUEUE_URL) throw new ConfigError('QUEUE_URL', 'is not set');
  // A scheduled event carries EventBridge's own fields: only explicit `true` flags count.
  const opts = { dryRun: event.dryRun === true, allowDeletes: event.allowDeletes === true, rewriteAll: event.rewriteAll === true };
  const { report, plan, timings } = await runReconcile(
    { dingtalk, wecom, store, sync, queue: new SqsChangeQueue({ queueUrl: env.QUEUE_URL }), config, logger },
    opts,
  );
  logger.info('reconcile report', { ...report, timings });
  return { ...report, plan: plan ? summarisePlan(plan.ops) : undefined };
}
