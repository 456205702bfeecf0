/**
 * The reconcile Lambda: on its EventBridge schedule (an apply run) or invoked by hand, e.g.
 * `npx serverless invoke -f reconcile -d '{"dryRun":true}'`, which returns the plan summary.
 *
 * Metrics (the run by status, its duration and counts, what the failed-push sweep enqueued, the
 * outcomes of what it wrote) go out through Powertools Metrics when the run ends.
 */
import { progressWriter, ReconcileProgressItem } from '../lib/aws/reconcile-progress';
import { composeAwsService } from '../lib/compose/aws';
import { loadLogLevel } from '../lib/config';
import { type InvocationTime, withLambdaDeadline } from '../lib/invocation-deadline';
import { createLogger } from '../lib/log';
import { metricsService } from '../lib/metrics/metrics';
import { PowertoolsMetrics } from '../lib/metrics/powertools';
import { countingQueue, recordReconcileMetrics } from '../lib/metrics/reconcile-metrics';
import { summarisePlan } from '../lib/sync/plan-table';
import { runReconcile } from '../lib/sync/reconcile';

const logger = createLogger('reconcile', { level: loadLogLevel() });
const metrics = new PowertoolsMetrics(metricsService());

export interface ReconcileEvent {
  dryRun?: boolean;
  allowDeletes?: boolean;
  rewriteAll?: boolean;
}

export async function handler(event: ReconcileEvent | Record<string, unknown> = {}, context?: InvocationTime) {
  try {
    const service = await composeAwsService(logger, 'reconcile', metrics);
    const queue = countingQueue(service.queue(), metrics); // before any work: a stack without QUEUE_URL fails naming it
    // A scheduled event carries EventBridge's own fields: only explicit `true` flags count.
    const opts = { dryRun: event.dryRun === true, allowDeletes: event.allowDeletes === true, rewriteAll: event.rewriteAll === true };
    // An applying run tells `npm run first-import` how far it is (a dry run writes nothing).
    const table = service.deployment.stateTable;
    const onProgress = !opts.dryRun && table ? progressWriter(new ReconcileProgressItem(table), Date.now()) : undefined;
    const { report, plan, timings } = await withLambdaDeadline(context, () => runReconcile(service.reconcileDeps(queue), { ...opts, onProgress }));
    logger.info('reconcile report', { ...report, timings });
    recordReconcileMetrics(metrics, report);
    return { ...report, plan: plan ? summarisePlan(plan.ops) : undefined };
  } finally {
    metrics.flush();
  }
}
