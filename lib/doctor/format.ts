/**
 * The doctor's report as a person reads it: one line per check under its group, ✔ / ✗ / –, and
 * under each ✗ (and note) what to do. Pure.
 */
import type { CheckGroup, CheckStatus, DoctorReport } from './check';

const MARK: Record<CheckStatus, string> = { pass: '✔', fail: '✗', note: '–', skip: '–' };
const GROUPS: Record<CheckGroup, string> = {
  settings: 'Settings',
  dingtalk: 'DingTalk',
  wecom: 'WeCom',
  callback: 'Callback',
  queue: 'Queue and reconcile',
};

export function formatReport(report: DoctorReport): string {
  const lines = [`doctor: ${report.target}`];
  for (const group of Object.keys(GROUPS) as CheckGroup[]) {
    const checks = report.checks.filter((c) => c.group === group);
    if (checks.length === 0) continue;
    lines.push('', GROUPS[group]);
    for (const c of checks) {
      lines.push(`  ${MARK[c.status]} ${c.title}: ${c.status === 'skip' ? `not checked, ${c.detail}` : c.detail}`);
      if (c.fix && c.status !== 'pass') lines.push(`      ${c.status === 'fail' ? 'fix' : 'next'}: ${c.fix}`);
    }
  }
  const count = (s: CheckStatus) => report.checks.filter((c) => c.status === s).length;
  lines.push(
    '',
    `${count('pass')} ✔  ${count('fail')} ✗  ${count('note') + count('skip')} –  ${report.ok ? 'nothing to fix' : 'fix the ✗ items above, then run the doctor again'}`,
  );
  return lines.join('\n');
}
