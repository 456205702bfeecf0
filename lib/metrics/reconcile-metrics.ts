/**
 * The reconcile's metrics, from its report: a run by status (an alarm watches `failed` and
 * `blocked`), its duration, and its counts by operation. A dry run changes nothing and is not
 * counted. And a queue that counts what it accepted, for the failed-push sweep's enqueues.
 */
import type { ChangeQueue, RunReport } from '../ports';
import { METRIC, type MetricsRecorder } from './metrics';

export function recordReconcileMetrics(metrics: MetricsRecorder, report: RunReport): void {
  if (report.dryRun) return;
  metrics.add(METRIC.reconcileRuns, 'Count', 1, { Status: report.status });
  metrics.add(METRIC.reconcileDuration, 'Milliseconds', Math.max(0, report.finishedAt - report.startedAt));
  for (const [operation, count] of Object.entries(report.counts)) metrics.add(METRIC.reconcileOperations, 'Count', count, { Operation: operation });
}

/** `queue`, counting each message it accepted as enqueued. */
export function countingQueue(queue: ChangeQueue, metrics: MetricsRecorder): ChangeQueue {
  return {
    async enqueue(messages) {
      await queue.enqueue(messages);
      metrics.add(METRIC.messagesEnqueued, 'Count', messages.length);
    },
  };
}
