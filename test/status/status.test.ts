import { describe, expect, it } from 'vitest';
import { FileStateStore } from '../../lib/local/file-store';
import { InProcessQueue } from '../../lib/local/memory-queue';
import type { RunReport } from '../../lib/ports';
import { scanOpenFailures } from '../../lib/status/failures';
import { renderHistory, renderStatus } from '../../lib/status/render';
import { statusReport } from '../../lib/status/status';
import { fixHint, TROUBLESHOOTING } from '../../lib/status/troubleshooting';
import { userState } from '../store/contract';

const T0 = Date.parse('2026-03-01T08:00:00.000Z');

function report(over: Partial<RunReport> = {}): RunReport {
  return { runId: 'run-1', startedAt: T0, finishedAt: T0 + 4200, status: 'success', dryRun: false, counts: { create_user: 2 }, errors: [], ...over };
}

describe('statusReport', () => {
  it('answers with exactly the keys the operators’ tools read', async () => {
    const store = new FileStateStore(undefined);
    const status = await statusReport({ queue: new InProcessQueue(), reports: store, failures: scanOpenFailures(store) });
    expect(status).toEqual({
      queue: { depth: 0, inFlight: 0, oldestAgeSeconds: 0, deadLetters: 0 },
      reconcile: { lastRun: null },
      failures: { open: 0, items: [] },
    });
  });

  it('counts waiting and in-flight messages, the oldest one’s age and the dead letters of the in-process queue', async () => {
    let now = T0;
    const queue = new InProcessQueue({ clock: { now: () => now }, maxReceiveCount: 1 });
    const change = (id: string) => ({ kind: 'user' as const, id, eventType: 'user_modify_org', eventTime: now, corpId: 'c' });
    await queue.enqueue([change('a')]);
    now += 30_000;
    await queue.enqueue([change('b'), change('c')]);
    const [first] = queue.receive(1);
    now += 12_000;
    expect(await queue.queueStatus()).toEqual({ depth: 2, inFlight: 1, oldestAgeSeconds: 42, deadLetters: 0 });
    queue.nack(first!.messageId);
    expect(await queue.queueStatus()).toMatchObject({ depth: 2, inFlight: 0, oldestAgeSeconds: 12, deadLetters: 1 });
  });

  it('gives the last run with its reason when blocked, and the newest 20 failures with the troubleshooting table’s fix', async () => {
    const store = new FileStateStore(undefined);
    await store.putReport(report({ status: 'blocked', message: 'would disable 40% of what it owns', counts: { disable_user: 40 } }));
    for (let i = 0; i < 23; i++)
      await store.put(userState(`u${i}`, { status: 'failed', updatedAt: T0 + i, lastErrcode: 60104, lastError: 'user/create: mobile existed' }));
    await store.put(userState('m', { status: 'failed', updatedAt: T0 + 100, lastError: 'name is empty' }));
    await store.put(userState('ok'));
    const status = await statusReport({ queue: new InProcessQueue(), reports: store, failures: scanOpenFailures(store) });
    expect(status.reconcile.lastRun).toEqual({
      runId: 'run-1',
      status: 'blocked',
      startedAt: '2026-03-01T08:00:00.000Z',
      finishedAt: '2026-03-01T08:00:04.200Z',
      counts: { disable_user: 40 },
      errors: 0,
      blockedReason: 'would disable 40% of what it owns',
    });
    expect(status.failures.open).toBe(24);
    expect(status.failures.items).toHaveLength(20);
    expect(status.failures.items[0]).toEqual({
      kind: 'user',
      id: 'm',
      since: new Date(T0 + 100).toISOString(),
      error: 'name is empty',
      hint: fixHint(undefined),
    });
    expect(status.failures.items[1]).toMatchObject({ id: 'u22', errcode: 60104, hint: fixHint(60104) });
  });
});

describe('fixHint', () => {
  it('gives each errcode a sync records its own row’s fix, and everything else the fallback', () => {
    const rowOf = (errcode: number) => TROUBLESHOOTING.find((r) => r.errcodes?.includes(errcode))!;
    for (const errcode of [50002, 50004, 60104, 60106, 60129, 60103, 60105, 60112, 60102, 60008, 60009, 60125, 81002, 60005, 60006]) {
      expect(fixHint(errcode)).toBe(rowOf(errcode).todo);
    }
    expect(fixHint(12345)).toBe(fixHint(undefined));
    expect(new Set(TROUBLESHOOTING.flatMap((r) => r.errcodes ?? [])).size).toBe(TROUBLESHOOTING.flatMap((r) => r.errcodes ?? []).length);
  });
});

describe('the text tables', () => {
  it('render the status: queue, last run and failures', async () => {
    const text = renderStatus(
      {
        queue: { depth: 3, inFlight: 1, oldestAgeSeconds: null, deadLetters: 2 },
        reconcile: {
          lastRun: {
            runId: 'r',
            status: 'partial',
            startedAt: '2026-03-01T08:00:00.000Z',
            finishedAt: '2026-03-01T08:00:04.200Z',
            counts: { create_user: 2 },
            errors: 1,
            message: '3 operations planned',
          },
        },
        failures: { open: 21, items: [{ kind: 'user', id: '张三', since: '2026-03-01T08:00:00.000Z', errcode: 60104, hint: 'do this' }] },
      },
      'stage prod',
    );
    expect(text).toContain('status of stage prod');
    expect(text).toMatch(/oldest message\s+unknown/);
    expect(text).toMatch(/dead letters\s+2 {2}\(fix the cause, then npm run redrive\)/);
    expect(text).toMatch(/finished\s+2026-03-01T08:00:04.200Z \(4.2 s\)/);
    expect(text).toContain('open permanent failures: 21 (newest 1 shown)');
    expect(text).toMatch(/user:张三\s+60104\s+do this/);
  });

  it('render a history newest first, or say there is none', () => {
    expect(renderHistory('user', 'x', [])).toContain('no history for user:x');
    const text = renderHistory('dept', '3', [
      {
        at: '2026-03-02T00:00:00.000Z',
        trigger: { source: 'reconcile', runId: 'r9' },
        correlationId: 'r9',
        result: 'failed',
        changedFields: [],
        errcode: 60008,
      },
      {
        at: '2026-03-01T00:00:00.000Z',
        trigger: { source: 'push', eventType: 'org_dept_create' },
        correlationId: 'c1',
        result: 'created',
        changedFields: ['name', 'parentid'],
      },
    ]);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('history of dept:3, newest first');
    expect(lines[4]).toMatch(/^2026-03-02T00:00:00.000Z\s+failed\s+60008\s+r9\s+reconcile run r9\s+-$/);
    expect(lines[5]).toMatch(/created\s+c1\s+org_dept_create\s+name, parentid$/);
  });
});
