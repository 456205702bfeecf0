import { afterEach, describe, expect, it, vi } from 'vitest';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { MAX_VALUES_PER_LINE } from '../../lib/metrics/buffer';
import { EmfMetrics } from '../../lib/metrics/emf';
import { METRIC, METRICS_NAMESPACE } from '../../lib/metrics/metrics';
import { PowertoolsMetrics } from '../../lib/metrics/powertools';
import { countingQueue, recordReconcileMetrics } from '../../lib/metrics/reconcile-metrics';

const parse = (lines: string[]) =>
  lines.map(
    (l) =>
      JSON.parse(l) as Record<string, unknown> & {
        _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
      },
  );

describe('EmfMetrics (the callback’s, by hand)', () => {
  it('writes one line per set of dimensions, counts summed, in CloudWatch’s embedded metric format', () => {
    const lines: string[] = [];
    const metrics = new EmfMetrics({ service: 'svc-prod', write: (l) => lines.push(l), now: () => 1_700_000_000_000 });
    metrics.add(METRIC.callbackRejected, 'Count', 1, { Reason: 'bad_signature' });
    metrics.add(METRIC.callbackRejected, 'Count', 1, { Reason: 'bad_signature' });
    metrics.add(METRIC.callbackRejected, 'Count', 1, { Reason: 'owner_key_mismatch' });
    metrics.add(METRIC.callbackAccepted, 'Count', 1);
    metrics.add(METRIC.messagesEnqueued, 'Count', 3);
    metrics.flush();
    expect(parse(lines)).toEqual([
      {
        _aws: {
          Timestamp: 1_700_000_000_000,
          CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [['service', 'Reason']], Metrics: [{ Name: 'CallbackRejected', Unit: 'Count' }] }],
        },
        service: 'svc-prod',
        Reason: 'bad_signature',
        CallbackRejected: 2,
      },
      expect.objectContaining({ Reason: 'owner_key_mismatch', CallbackRejected: 1 }),
      expect.objectContaining({ service: 'svc-prod', CallbackAccepted: 1, MessagesEnqueued: 3 }),
    ]);
    lines.length = 0;
    metrics.flush();
    expect(lines).toEqual([]); // flushed means emptied
  });

  it('keeps each timing, at most 100 values per line, and drops values that are not numbers', () => {
    const lines: string[] = [];
    const metrics = new EmfMetrics({ service: 's', write: (l) => lines.push(l) });
    for (let i = 0; i < MAX_VALUES_PER_LINE + 5; i++) metrics.add(METRIC.propagationLatency, 'Milliseconds', i);
    metrics.add(METRIC.propagationLatency, 'Milliseconds', Number.NaN);
    metrics.flush();
    const [first, second] = parse(lines);
    expect((first!.PropagationLatency as number[]).length).toBe(MAX_VALUES_PER_LINE);
    expect(second!.PropagationLatency).toEqual([100, 101, 102, 103, 104]);
    expect(first!._aws.CloudWatchMetrics[0]!.Metrics).toEqual([{ Name: 'PropagationLatency', Unit: 'Milliseconds' }]);
  });
});

describe('PowertoolsMetrics (the workers’)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes the same metrics as Powertools’ EMF lines: namespace, service and the group’s dimensions', () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const metrics = new PowertoolsMetrics('svc-prod');
    metrics.add(METRIC.syncResults, 'Count', 1, { Result: 'created' });
    metrics.add(METRIC.syncResults, 'Count', 1, { Result: 'created' });
    metrics.add(METRIC.syncResults, 'Count', 1, { Result: 'failed' });
    metrics.add(METRIC.propagationLatency, 'Milliseconds', 1200);
    metrics.add(METRIC.propagationLatency, 'Milliseconds', 800);
    metrics.flush();
    const lines = parse(written.join('').trim().split('\n'));
    expect(lines).toHaveLength(3);
    const created = lines.find((l) => l.Result === 'created')!;
    expect(created._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [['service', 'Result']],
      Metrics: [{ Name: 'SyncResults', Unit: 'Count' }],
    });
    expect(created).toMatchObject({ service: 'svc-prod', SyncResults: 2 });
    expect(lines.find((l) => l.Result === 'failed')).toMatchObject({ SyncResults: 1 });
    const latency = lines.find((l) => 'PropagationLatency' in l)!;
    expect(latency._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service']]);
    expect(latency.PropagationLatency).toEqual([1200, 800]);
  });
});

describe('the reconcile’s metrics', () => {
  it('count a run by status, its duration and each count by operation; not a dry run', () => {
    const entries: unknown[] = [];
    const metrics = { add: (...args: unknown[]) => entries.push(args) };
    const report = {
      runId: 'r',
      startedAt: 1000,
      finishedAt: 4000,
      status: 'partial' as const,
      dryRun: false,
      counts: { create_user: 3, failed_push_enqueued: 2 },
      errors: [],
    };
    recordReconcileMetrics(metrics, report);
    expect(entries).toEqual([
      ['ReconcileRuns', 'Count', 1, { Status: 'partial' }],
      ['ReconcileDuration', 'Milliseconds', 3000],
      ['ReconcileOperations', 'Count', 3, { Operation: 'create_user' }],
      ['ReconcileOperations', 'Count', 2, { Operation: 'failed_push_enqueued' }],
    ]);
    entries.length = 0;
    recordReconcileMetrics(metrics, { ...report, dryRun: true });
    expect(entries).toEqual([]);
  });

  it('count what the queue accepted, and nothing it refused', async () => {
    const entries: unknown[] = [];
    const inner = new InProcessQueue();
    const queue = countingQueue(inner, { add: (...args: unknown[]) => entries.push(args) });
    const m = { kind: 'user' as const, id: 'a', eventType: 'user_add_org', eventTime: 1, corpId: 'c' };
    await queue.enqueue([m, { ...m, id: 'b' }]);
    inner.rejectNextEnqueues = 1;
    await expect(queue.enqueue([m])).rejects.toThrow();
    expect(entries).toEqual([['MessagesEnqueued', 'Count', 2]]);
  });
});
