/**
 * The reconcile Lambda: on its EventBridge schedule (an apply run) or invoked by hand, e.g.
 * `npx serverless invoke -f reconcile -d '{"dryRun":true}'`, which returns the plan summary.
 */
import { progressWriter, ReconcileProgressItem } from '../lib/aws/reconcile-progress';
import { composeAwsService } from '../lib/compose/aws';
import { loadLogLevel } from '../lib/config';
import { createLogger } from '../lib/log';
import { summarisePlan } from '../lib/sync/plan-table';
import { runReconcile } from '../lib/sync/reconcile';

const logger = createLogger('reconcile', { level: loadLogLevel() });

export interface ReconcileEvent {
  dryRun?: boolean;
  allowDeletes?: boolean;
  rewriteAll?: boolean;
}

export async function handler(event: ReconcileEvent | Record<string, unknown> = {}) {
  const service = await composeAwsService(logger);
  const queue = service.queue(); // before any work: a stack without QUEUE_URL fails naming it
  // A scheduled event carries EventBridge's own fields: only explicit `true` flags count.
  const opts = { dryRun: event.dryRun === true, allowDeletes: event.allowDeletes === true, rewriteAll: event.rewriteAll === true };
  // An applying run tells `npm run first-import` how far it is (a dry run writes nothing).
  const table = service.deployment.stateTable;
  const onProgress = !opts.dryRun && table ? progressWriter(new ReconcileProgressItem(table), Date.now()) : undefined;
  const { report, plan, timings } = await runReconcile(service.reconcileDeps(queue), { ...opts, onProgress });
  logger.info('reconcile report', { ...report, timings });
  return { ...report, plan: plan ? summarisePlan(plan.ops) : undefined };
}
