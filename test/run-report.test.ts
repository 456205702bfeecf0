/**
 * A run report kept to a size the stores (DynamoDB: 400 KB an item) and a log line can take.
 */
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../lib/ports';
import { boundReport } from '../lib/run-report';

const base: RunReport = { runId: 'r', startedAt: 1, finishedAt: 2, status: 'partial', dryRun: false, counts: { create_user: 3 }, errors: [] };
const error = (i: number, message = `refused ${i}`) => ({ kind: 'user' as const, id: `u${i}`, op: 'create_user', errcode: 60104, message });

describe('boundReport', () => {
  it('leaves a report of ordinary size as it is', () => {
    const report = { ...base, errors: [error(1), error(2)], notices: [{ kind: 'user' as const, id: 'x', message: 'gave up its mobile' }], message: 'm' };
    expect(boundReport(report)).toEqual(report);
  });

  it('keeps the first errors within the budget, the totals, and says so; a second pass changes nothing', () => {
    const report = { ...base, errors: Array.from({ length: 20_000 }, (_, i) => error(i)), message: '20000 operations planned' };
    const bounded = boundReport(report);
    expect(Buffer.byteLength(JSON.stringify(bounded))).toBeLessThan(350_000);
    expect(bounded.errors).toEqual(report.errors.slice(0, bounded.errors.length));
    expect(bounded.totals).toEqual({ errors: 20_000, notices: 0 });
    expect(bounded.message).toMatch(/^20000 operations planned; this report keeps the first \d+ of 20000 errors/);
    expect(bounded.counts).toEqual(report.counts);
    expect(boundReport(bounded)).toEqual(bounded);
  });

  it('cuts one very long message, and bounds notices on their own', () => {
    const notices = Array.from({ length: 5_000 }, (_, i) => ({ kind: 'user' as const, id: `l${i}`, message: `leaver l${i} gave up its mobile and email` }));
    const bounded = boundReport({ ...base, errors: [error(1, 'x'.repeat(50_000))], notices });
    expect(bounded.errors[0]!.message).toHaveLength(1_000);
    expect(bounded.errors[0]!.message.endsWith('…')).toBe(true);
    expect(bounded.notices!.length).toBeLessThan(5_000);
    expect(bounded.totals).toEqual({ errors: 1, notices: 5_000 });
    expect(bounded.message).toMatch(/^this report keeps the first \d+ of 5000 notices/);
  });
});
