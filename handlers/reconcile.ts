/**
 * The reconcile Lambda: on its EventBridge schedule (an apply run) or invoked by hand, e.g.
 * `npx serverless invoke -f reconcile -d '{"dryRun":true}'`, which returns the plan summary.
 */
import { composeAwsService } from '../lib/compose/aws';
import { loadLogLevel } from '../lib/config';
import { type InvocationTime, withLambdaDeadline } from '../lib/invocation-deadline';
import { createLogger } from '../lib/log';
import { summarisePlan } from '../lib/sync/plan-table';
import { runReconcile } from '../lib/sync/reconcile';

const logger = createLogger('reconcile', { level: loadLogLevel() });

export interface ReconcileEvent {
  dryRun?: boolean;
  allowDeletes?: boolean;
  rewriteAll?: boolean;
}

export async function handler(event: ReconcileEvent | Record<string, unknown> = {}, context?: InvocationTime) {
  const service = await composeAwsService(logger, 'reconcile');
  const queue = service.queue(); // before any work: a stack without QUEUE_URL fails naming it
  // A scheduled event carries EventBridge's own fields: only explicit `true` flags count.
  const opts = { dryRun: event.dryRun === true, allowDeletes: event.allowDeletes === true, rewriteAll: event.rewriteAll === true };
  const { report, plan, timings } = await withLambdaDeadline(context, () => runReconcile(service.reconcileDeps(queue), opts));
  logger.info('reconcile report', { ...report, timings });
  return { ...report, plan: plan ? summarisePlan(plan.ops) : undefined };
}
