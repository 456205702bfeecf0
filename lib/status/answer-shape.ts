/**
 * Whether a JSON answer from `--url` is what npm start's GET /status and GET /history/… send.
 * Anything else listening there (another local service) may answer 200 JSON too; printing that as
 * a report, or failing on a missing field, would hide that the URL is wrong.
 */
import type { HistoryItem } from '../history/history';
import type { StatusReport } from './status';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => v === null || typeof v === 'number';

export function isStatusReport(v: unknown): v is StatusReport {
  if (!isObject(v) || !isObject(v.queue) || !isObject(v.reconcile) || !isObject(v.failures)) return false;
  const { queue, reconcile, failures } = v;
  const queueOk = ['depth', 'inFlight', 'oldestAgeSeconds', 'deadLetters'].every((k) => isCount(queue[k]));
  const run = reconcile.lastRun;
  const runOk =
    run === null ||
    (isObject(run) &&
      typeof run.runId === 'string' &&
      typeof run.status === 'string' &&
      typeof run.startedAt === 'string' &&
      typeof run.finishedAt === 'string' &&
      isObject(run.counts));
  const failuresOk =
    typeof failures.open === 'number' &&
    Array.isArray(failures.items) &&
    failures.items.every(
      (f) => isObject(f) && typeof f.kind === 'string' && typeof f.id === 'string' && typeof f.since === 'string' && typeof f.hint === 'string',
    );
  return queueOk && runOk && failuresOk;
}

export function isHistoryAnswer(v: unknown): v is { items: HistoryItem[] } {
  return (
    isObject(v) &&
    Array.isArray(v.items) &&
    v.items.every(
      (i) =>
        isObject(i) &&
        typeof i.at === 'string' &&
        typeof i.result === 'string' &&
        typeof i.correlationId === 'string' &&
        isObject(i.trigger) &&
        Array.isArray(i.changedFields),
    )
  );
}
