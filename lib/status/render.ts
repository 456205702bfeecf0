/**
 * The status report and one entity's history as text tables, for `npm run status` and
 * `npm run history` (`--json` prints the JSON instead). Pure.
 */
import type { HistoryItem } from '../history/history';
import type { EntityKind } from '../ports';
import { displayWidth, padDisplay, truncate } from '../sync/plan-table';
import { describeTrigger, entityRef } from '../trail/trail';
import type { StatusReport } from './status';

/** Columns padded to their widest cell (at most `max` each, East Asian wide characters counting two); the last one is not padded. */
function table(header: readonly string[], rows: readonly (readonly string[])[], max = 48): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.min(max, Math.max(...all.map((r) => displayWidth(r[i] ?? '')))));
  const line = (r: readonly string[]) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : padDisplay(truncate(cell, widths[i]!), widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const shown = (n: number | null, unit = '') => (n === null ? 'unknown' : `${n}${unit}`);

/** A titled list of name → value lines. */
function section(title: string, rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([name]) => displayWidth(name)));
  return [title, ...rows.map(([name, value]) => `  ${padDisplay(name, width)}  ${value}`)].join('\n');
}

export function renderStatus(report: StatusReport, source: string): string {
  const { queue, reconcile, failures } = report;
  const out: string[] = [`status of ${source}`, ''];
  out.push(
    section('change queue', [
      ['waiting', shown(queue.depth)],
      ['in flight', shown(queue.inFlight)],
      ['oldest message', shown(queue.oldestAgeSeconds, ' s')],
      ['dead letters', `${shown(queue.deadLetters)}${queue.deadLetters ? '  (fix the cause, then npm run redrive)' : ''}`],
    ]),
    '',
  );
  const run = reconcile.lastRun;
  if (!run) {
    out.push('last reconcile: none recorded yet', '');
  } else {
    const seconds = ((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000).toFixed(1);
    const counts = Object.entries(run.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const rows: [string, string][] = [
      ['run', run.runId],
      ['status', run.status],
      ['started', run.startedAt],
      ['finished', `${run.finishedAt} (${seconds} s)`],
      ['counts', counts || 'none'],
      ['errors', String(run.errors)],
    ];
    if (run.blockedReason) rows.push(['blocked', run.blockedReason]);
    if (run.message) rows.push(['message', run.message]);
    out.push(section('last reconcile', rows), '');
  }
  if (failures.open === 0) {
    out.push('open permanent failures: none');
  } else {
    const more = failures.open > failures.items.length ? ` (newest ${failures.items.length} shown)` : '';
    out.push(`open permanent failures: ${failures.open}${more}`);
    out.push(
      table(
        ['since', 'entity', 'errcode', 'what to do'],
        failures.items.map((f) => [f.since, entityRef(f.kind, f.id), f.errcode === undefined ? '-' : String(f.errcode), f.hint]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

export function renderHistory(kind: EntityKind, id: string, items: readonly HistoryItem[]): string {
  if (items.length === 0) return `no history for ${entityRef(kind, id)} (never synced, or older than the history keeps)\n`;
  const rows = items.map((i) => [
    i.at,
    i.result,
    i.errcode === undefined ? '' : String(i.errcode),
    i.correlationId,
    describeTrigger(i.trigger),
    i.changedFields.length ? i.changedFields.join(', ') : '-',
  ]);
  const header = ['at', 'result', 'errcode', 'correlation id', 'trigger', 'changed fields'];
  return `history of ${entityRef(kind, id)}, newest first\n\n${table(header, rows, 64)}\n`;
}
