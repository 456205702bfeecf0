import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { drain, startWorkerLoop } from '../../lib/local/worker-loop';
import { decodeMessage } from '../../lib/messages';
import type { ChangeMessage } from '../../lib/ports';
import type { SyncBatchResult } from '../../lib/sync/worker';

const m = (id: string, eventTime = 1): ChangeMessage => ({ kind: 'user', id, eventType: 'user_modify_org', eventTime, corpId: 'c' });

describe('InProcessQueue', () => {
  it('keeps order within a group and hands out one message per group at a time', async () => {
    const q = new InProcessQueue();
    await q.enqueue([m('a', 1), m('a', 2), m('b', 1)]);
    const first = q.receive(10);
    expect(first.map((x) => [x.groupId, decodeMessage(x.body).eventTime])).toEqual([
      ['user:a', 1],
      ['user:b', 1],
    ]);
    expect(q.receive(10)).toEqual([]); // a's second message waits for the first
    q.ack(first[0]!.messageId);
    expect(q.receive(10).map((x) => decodeMessage(x.body).eventTime)).toEqual([2]);
  });

  it('drops duplicates within the window and accepts them after it', async () => {
    let now = 0;
    const q = new InProcessQueue({ dedupWindowMs: 1000, clock: { now: () => now } });
    await q.enqueue([m('a'), m('a')]);
    await q.enqueue([m('a')]);
    expect(q.depth).toBe(1);
    now = 1500;
    await q.enqueue([m('a')]);
    expect(q.depth).toBe(2);
  });

  it('returns a failed message to the head of its group, and dead-letters it after maxReceiveCount', async () => {
    const q = new InProcessQueue({ maxReceiveCount: 2 });
    await q.enqueue([m('a', 1), m('a', 2)]);
    const [first] = q.receive(1);
    q.nack(first!.messageId);
    const [again] = q.receive(1);
    expect(again!.messageId).toBe(first!.messageId);
    q.nack(again!.messageId);
    expect(q.deadLetters.map((x) => x.messageId)).toEqual([first!.messageId]);
    expect(q.depth).toBe(1);
  });
});

describe('worker loop', () => {
  it('drains with partial batch failures retried', async () => {
    const q = new InProcessQueue();
    await q.enqueue([m('a'), m('b')]);
    let failOnce = true;
    const seen: string[] = [];
    const process = async (event: SQSEvent): Promise<SyncBatchResult> => {
      const failures = [];
      for (const r of event.Records) {
        seen.push(decodeMessage(r.body).id);
        if (decodeMessage(r.body).id === 'a' && failOnce) {
          failOnce = false;
          failures.push({ itemIdentifier: r.messageId });
        }
      }
      return { response: { batchItemFailures: failures }, outcomes: [], notStarted: 0 };
    };
    await drain(q, process);
    expect(seen.sort()).toEqual(['a', 'a', 'b']);
    expect(q.depth).toBe(0);
  });

  it('runs up to `concurrency` batches at once, as maximumConcurrency runs Lambdas, never two changes of one entity at once', async () => {
    const q = new InProcessQueue();
    // Three changes to each of 40 users: 4 batches of 10 groups, then the groups' next changes.
    await q.enqueue(Array.from({ length: 120 }, (_, i) => m(`u${i % 40}`, Math.floor(i / 40) + 1)));
    let active = 0;
    let peak = 0;
    const inFlight = new Set<string>();
    let overlap = false;
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      const stop = startWorkerLoop(
        q,
        async (event) => {
          active++;
          peak = Math.max(peak, active);
          const ids = event.Records.map((r) => decodeMessage(r.body).id);
          if (ids.some((id) => inFlight.has(id))) overlap = true;
          for (const id of ids) inFlight.add(id);
          await new Promise((r) => setTimeout(r, 5));
          for (const id of ids) inFlight.delete(id);
          seen.push(...ids);
          active--;
          if (seen.length === 120) {
            stop();
            resolve();
          }
          return { response: { batchItemFailures: [] }, outcomes: [], notStarted: 0 };
        },
        { concurrency: 3 },
      );
    });
    await done;
    await new Promise((r) => setTimeout(r, 0)); // the last batch's acknowledgements
    expect(peak).toBe(3);
    expect(overlap).toBe(false);
    expect(q.depth).toBe(0);
  });

  it('keeps a failed message out of sight for the retry delay while the other groups go on', async () => {
    const q = new InProcessQueue();
    await q.enqueue([m('a'), m('b')]);
    await q.enqueue([m('a', 2), m('c')]);
    const order: string[] = [];
    let failA = true;
    const done = new Promise<void>((resolve) => {
      const stop = startWorkerLoop(
        q,
        async (event) => {
          const failures = [];
          for (const r of event.Records) {
            const { id, eventTime } = decodeMessage(r.body);
            order.push(`${id}${eventTime}`);
            if (id === 'a' && failA) {
              failA = false;
              failures.push({ itemIdentifier: r.messageId });
            }
          }
          if (order.length === 5) {
            stop();
            resolve();
          }
          return { response: { batchItemFailures: failures }, outcomes: [], notStarted: 0 };
        },
        { concurrency: 1, retryDelayMs: 50 },
      );
    });
    await done;
    // c goes on while a's failed change waits; a's second change never overtakes its first.
    expect(order).toEqual(['a1', 'b1', 'c1', 'a1', 'a2']);
  });

  it('keeps going after a batch throws, instead of stalling until the next enqueue', async () => {
    const q = new InProcessQueue();
    let calls = 0;
    const done = new Promise<void>((resolve) => {
      const stop = startWorkerLoop(
        q,
        async () => {
          calls++;
          if (calls === 1) throw new Error('boom');
          stop();
          resolve();
          return { response: { batchItemFailures: [] }, outcomes: [], notStarted: 0 };
        },
        { retryDelayMs: 10 },
      );
    });
    await q.enqueue([m('a')]);
    await done;
    expect(calls).toBe(2);
  });
});
