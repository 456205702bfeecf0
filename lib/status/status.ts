/**
 * "Is the sync healthy right now?": the change queue (waiting, in flight, the oldest message's
 * age), the dead-letter queue, the last reconcile run, and the open permanent failures with what
 * to do about each. The same report in every environment; only where the numbers come from
 * differs (the in-process queue and embedded store of `npm start`, or SQS, CloudWatch and the
 * DynamoDB table of a deployed stage).
 */
import type { RunReport, StateStore } from '../ports';
import { FAILURES_SHOWN, type FailureIndex, type OpenFailure } from './failures';
import { fixHint } from './troubleshooting';

export interface QueueStatus {
  /** Messages waiting to be received (null: unknown). */
  depth: number | null;
  /** Messages received by a worker and not yet deleted. */
  inFlight: number | null;
  /** Age of the oldest message in the queue, in seconds (0 when it is empty; null: unknown). */
  oldestAgeSeconds: number | null;
  /** Messages in the dead-letter queue. */
  deadLetters: number | null;
}

export interface QueueStatusSource {
  queueStatus(): Promise<QueueStatus>;
}

interface LastRun {
  runId: string;
  status: RunReport['status'];
  startedAt: string;
  finishedAt: string;
  counts: Record<string, number>;
  /** Operations or sweeps that failed in the run. */
  errors: number;
  /** Why the deletion guard stopped the run, when it did. */
  blockedReason?: string;
  message?: string;
}

export interface StatusReport {
  queue: QueueStatus;
  reconcile: { lastRun: LastRun | null };
  failures: { open: number; items: (OpenFailure & { hint: string })[] };
}

export interface StatusSources {
  queue: QueueStatusSource;
  reports: Pick<StateStore, 'latestReport'>;
  failures: FailureIndex;
}

export async function statusReport(sources: StatusSources): Promise<StatusReport> {
  const [queue, report, failures] = await Promise.all([
    sources.queue.queueStatus(),
    sources.reports.latestReport(),
    sources.failures.openFailures(FAILURES_SHOWN),
  ]);
  return {
    queue,
    reconcile: { lastRun: report ? lastRunOf(report) : null },
    failures: { open: failures.open, items: failures.items.map((f) => ({ ...f, hint: fixHint(f.errcode) })) },
  };
}

function lastRunOf(report: RunReport): LastRun {
  const run: LastRun = {
    runId: report.runId,
    status: report.status,
    startedAt: new Date(report.startedAt).toISOString(),
    finishedAt: new Date(report.finishedAt).toISOString(),
    counts: report.counts,
    errors: report.errors.length,
  };
  if (report.status === 'blocked' && report.message) run.blockedReason = report.message;
  else if (report.message) run.message = report.message;
  return run;
}
