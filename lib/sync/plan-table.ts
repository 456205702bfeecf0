/**
 * Human-readable forms of a reconcile plan: a summary for the Lambda's answer and a table for
 * `npm run reconcile`. Pure.
 */
import { countOps, type PlanOp } from './plan';

export interface PlanSummary {
  operations: number;
  byOperation: Record<string, number>;
  /** The first operations, as rows; the full list can be long. */
  sample: { op: string; entity: string; wecomId: string; changes: string }[];
}

function planRows(ops: readonly PlanOp[]): { op: string; entity: string; wecomId: string; changes: string }[] {
  return ops.map((o) => ({
    op: o.op,
    entity: `${o.kind} ${o.id}${'dept' in o ? ` ${o.dept.name}` : 'user' in o ? ` ${o.user.name}` : ''}`,
    wecomId: o.wecomId ?? (o.op === 'create_dept' || o.op === 'create_user' ? '(new)' : ''),
    changes: o.changes,
  }));
}

export function summarisePlan(ops: readonly PlanOp[], sampleSize = 50): PlanSummary {
  return { operations: ops.length, byOperation: countOps(ops), sample: planRows(ops.slice(0, sampleSize)) };
}

/** Fixed-width text table; widths count East Asian wide characters as two columns. */
export function formatPlanTable(ops: readonly PlanOp[]): string {
  const rows = planRows(ops);
  if (rows.length === 0) return 'nothing to do: WeCom already matches DingTalk (as far as its id lists show)';
  const header = { op: 'operation', entity: 'entity', wecomId: 'WeCom id', changes: 'what changes' };
  const all = [header, ...rows];
  const cols = ['op', 'entity', 'wecomId'] as const;
  const widths = cols.map((c) => Math.min(40, Math.max(...all.map((r) => displayWidth(r[c])))));
  const line = (r: typeof header) => [...cols.map((c, i) => padDisplay(truncate(r[c], widths[i]!), widths[i]!)), r.changes].join('  ');
  return [
    line(header),
    line({ op: '-'.repeat(widths[0]!), entity: '-'.repeat(widths[1]!), wecomId: '-'.repeat(widths[2]!), changes: '-'.repeat(12) }),
    ...rows.map(line),
  ].join('\n');
}

export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

export function truncate(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  let out = '';
  for (const ch of s) {
    if (displayWidth(out + ch) > width - 1) break;
    out += ch;
  }
  return `${out}…`;
}

export function padDisplay(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}
