/**
 * The failed-push sweep with a list that forgets each page once read and a queue that can refuse.
 * (The sweep against the DingTalk simulator, inside a whole run, is in reconcile.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { ChangeMessage, ChangeQueue, DingTalkDirectory, FailedPushPage } from '../../lib/ports';
import { sweepFailedPushes } from '../../lib/sync/failed-push-sweep';

/** A DingTalk whose failed-push list hands out `pages` one call at a time, then fails or is empty. */
function failedPushes(pages: FailedPushPage[], afterwards?: Error): Pick<DingTalkDirectory, 'getFailedPushes'> {
  return {
    getFailedPushes: async () => {
      const page = pages.shift();
      if (page) return page;
      if (afterwards) throw afterwards;
      return { hasMore: false, failed: [] };
    },
  };
}

function queue(refuseAfter = Infinity): ChangeQueue & { received: ChangeMessage[][] } {
  const received: ChangeMessage[][] = [];
  return {
    received,
    enqueue: async (messages) => {
      if (received.length >= refuseAfter) throw new Error('queue unavailable');
      received.push([...messages]);
    },
  };
}

const push = (userIds: string[], deptIds: string[] = []) => ({ eventType: 'user_modify_org', eventTime: 7, corpId: 'corp', userIds, deptIds });

describe('every page reaches the queue before the next is read', () => {
  it('enqueues one message per user and department, page by page, until the list has no more', async () => {
    const q = queue();
    const dingtalk = failedPushes([
      { hasMore: true, failed: [push(['u1', 'u2'], ['5'])] },
      { hasMore: false, failed: [push(['u3'])] },
    ]);
    const done: number[] = [];
    const result = await sweepFailedPushes({ dingtalk, queue: q }, (n) => done.push(n));
    expect(result).toEqual({ enqueued: 4, errors: [] });
    expect(q.received.map((page) => page.map((m) => `${m.kind} ${m.id}`))).toEqual([['user u1', 'user u2', 'dept 5'], ['user u3']]);
    expect(q.received[0]![0]).toEqual({ kind: 'user', id: 'u1', eventType: 'user_modify_org', eventTime: 7, corpId: 'corp' });
    expect(done).toEqual([3, 4]);
  });
});

describe('failures are reported, never thrown', () => {
  it('names every entity of a page the queue refused, and reads no further', async () => {
    const dingtalk = failedPushes([
      { hasMore: true, failed: [push(['u1'])] },
      { hasMore: true, failed: [push(['u2'], ['6'])] },
      { hasMore: false, failed: [push(['u3'])] },
    ]);
    const result = await sweepFailedPushes({ dingtalk, queue: queue(1) });
    expect(result.enqueued).toBe(1);
    expect(result.errors.map((e) => `${e.kind} ${e.id} ${e.op}: ${e.message}`)).toEqual([
      'user u2 failed_push_sweep: could not enqueue: queue unavailable',
      'dept 6 failed_push_sweep: could not enqueue: queue unavailable',
    ]);
  });

  it('reports a list it could not read, keeping what was enqueued before', async () => {
    const dingtalk = failedPushes([{ hasMore: true, failed: [push(['u1'])] }], new Error('throttled'));
    const result = await sweepFailedPushes({ dingtalk, queue: queue() });
    expect(result).toEqual({
      enqueued: 1,
      errors: [{ kind: 'user', id: '*', op: 'failed_push_sweep', message: 'could not read the failed-push list: throttled' }],
    });
  });
});
