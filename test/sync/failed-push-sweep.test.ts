/**
 * The failed-push sweep with a list that forgets each page once read and a queue that can refuse.
 * (The sweep against the DingTalk simulator, inside a whole run, is in reconcile.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { FileStateStore } from '../../lib/local/file-store';
import type { ChangeMessage, ChangeQueue, DingTalkDirectory, FailedPushPage } from '../../lib/ports';
import { type SweepDeps, sweepFailedPushes } from '../../lib/sync/failed-push-sweep';

/** A DingTalk whose failed-push list hands out `pages` one call at a time, then fails or is empty. */
function failedPushes(pages: FailedPushPage[], afterwards?: Error): Pick<DingTalkDirectory, 'getFailedPushes'> & { reads: number } {
  const list = {
    reads: 0,
    getFailedPushes: async () => {
      list.reads++;
      const page = pages.shift();
      if (page) return page;
      if (afterwards) throw afterwards;
      return { hasMore: false, failed: [] };
    },
  };
  return list;
}

/** A queue that accepts `refuseAfter` calls, then refuses until `refuseAfter` is raised. */
function queue(refuseAfter = Infinity): ChangeQueue & { received: ChangeMessage[][]; refuseAfter: number } {
  const received: ChangeMessage[][] = [];
  const q = {
    received,
    refuseAfter,
    enqueue: async (messages: readonly ChangeMessage[]) => {
      if (received.length >= q.refuseAfter) throw new Error('queue unavailable');
      received.push([...messages]);
    },
  };
  return q;
}

/** The sweep's dependencies on an empty in-memory store. */
function sweepDeps(dingtalk: SweepDeps['dingtalk'], q: ChangeQueue, store: SweepDeps['store'] = new FileStateStore(undefined)): SweepDeps {
  return { dingtalk, queue: q, store, clock: { now: () => 1_000 } };
}

const ids = (pages: ChangeMessage[][]) => pages.map((page) => page.map((m) => `${m.kind} ${m.id}`));

const push = (userIds: string[], deptIds: string[] = []) => ({ eventType: 'user_modify_org', eventTime: 7, corpId: 'corp', userIds, deptIds });

describe('every page reaches the queue before the next is read', () => {
  it('enqueues one message per user and department, page by page, until the list has no more', async () => {
    const q = queue();
    const dingtalk = failedPushes([
      { hasMore: true, failed: [push(['u1', 'u2'], ['5'])] },
      { hasMore: false, failed: [push(['u3'])] },
    ]);
    const done: number[] = [];
    const result = await sweepFailedPushes(sweepDeps(dingtalk, q), (n) => done.push(n));
    expect(result).toEqual({ enqueued: 4, errors: [] });
    expect(ids(q.received)).toEqual([['user u1', 'user u2', 'dept 5'], ['user u3']]);
    const trail = { correlationId: expect.stringMatching(/^[0-9a-f]{24}$/), source: 'failed_push_sweep' };
    expect(q.received[0]![0]).toEqual({ kind: 'user', id: 'u1', eventType: 'user_modify_org', eventTime: 7, corpId: 'corp', trail });
    expect(done).toEqual([3, 4]);
  });

  it('gives the messages of one failed push its correlation id, and the run id when a run sweeps', async () => {
    const q = queue();
    const dingtalk = failedPushes([{ hasMore: false, failed: [push(['u1', 'u2'], ['5']), push(['u3'])] }]);
    await sweepFailedPushes(sweepDeps(dingtalk, q), undefined, { runId: 'run-1' });
    const [u1, u2, d5, u3] = q.received[0]!.map((m) => m.trail!);
    expect(u1).toEqual({ correlationId: u2!.correlationId, source: 'failed_push_sweep', runId: 'run-1' });
    expect(d5!.correlationId).toBe(u1!.correlationId);
    expect(u3!.correlationId).not.toBe(u1!.correlationId);
  });
});

describe('failures are reported, never thrown', () => {
  it('names every entity of a page the queue refused, keeps it in the outbox, and reads no further', async () => {
    const dingtalk = failedPushes([
      { hasMore: true, failed: [push(['u1'])] },
      { hasMore: true, failed: [push(['u2'], ['6'])] },
      { hasMore: false, failed: [push(['u3'])] },
    ]);
    const store = new FileStateStore(undefined);
    const result = await sweepFailedPushes(sweepDeps(dingtalk, queue(1), store));
    expect(result.enqueued).toBe(1);
    expect(result.errors.map((e) => `${e.kind} ${e.id} ${e.op}: ${e.message}`)).toEqual([
      'user u2 failed_push_sweep: could not enqueue (kept in the outbox for the next run): queue unavailable',
      'dept 6 failed_push_sweep: could not enqueue (kept in the outbox for the next run): queue unavailable',
    ]);
    expect(dingtalk.reads).toBe(2);
    expect((await store.listOutbox()).map((r) => r.messages.map((m) => m.id))).toEqual([['u2', '6']]);
  });

  it('reports a list it could not read, keeping what was enqueued before', async () => {
    const dingtalk = failedPushes([{ hasMore: true, failed: [push(['u1'])] }], new Error('throttled'));
    const result = await sweepFailedPushes(sweepDeps(dingtalk, queue()));
    expect(result).toEqual({
      enqueued: 1,
      errors: [{ kind: 'user', id: '*', op: 'failed_push_sweep', message: 'could not read the failed-push list: throttled' }],
    });
  });
});

describe('the outbox: a page DingTalk has forgotten is kept until the queue accepts it', () => {
  it('enqueues what an earlier sweep kept before reading the list, then forgets it', async () => {
    const store = new FileStateStore(undefined);
    const q = queue(0);
    await sweepFailedPushes(sweepDeps(failedPushes([{ hasMore: false, failed: [push(['u1'], ['5'])] }]), q, store));
    q.refuseAfter = Infinity;
    const dingtalk = failedPushes([{ hasMore: false, failed: [push(['u2'])] }]);
    const done: number[] = [];
    const result = await sweepFailedPushes(sweepDeps(dingtalk, q, store), (n) => done.push(n));
    expect(result).toEqual({ enqueued: 3, errors: [] });
    expect(ids(q.received)).toEqual([['user u1', 'dept 5'], ['user u2']]);
    expect(done).toEqual([2, 3]);
    expect(await store.listOutbox()).toEqual([]);
  });

  it('reads no new page while the queue still refuses what the outbox holds', async () => {
    const store = new FileStateStore(undefined);
    await sweepFailedPushes(sweepDeps(failedPushes([{ hasMore: false, failed: [push(['u1'])] }]), queue(0), store));
    const dingtalk = failedPushes([{ hasMore: false, failed: [push(['u2'])] }]);
    const result = await sweepFailedPushes(sweepDeps(dingtalk, queue(0), store));
    expect(result.errors.map((e) => `${e.id}: ${e.message}`)).toEqual(['u1: could not enqueue (kept in the outbox for the next run): queue unavailable']);
    expect(dingtalk.reads).toBe(0);
    expect(await store.listOutbox()).toHaveLength(1);
  });

  it('splits a large page into records of 500 messages, and enqueues them all', async () => {
    const store = new FileStateStore(undefined);
    const q = queue();
    const userIds = Array.from({ length: 1_201 }, (_, i) => `u${i}`);
    const result = await sweepFailedPushes(sweepDeps(failedPushes([{ hasMore: false, failed: [push(userIds)] }]), q, store));
    expect(result).toEqual({ enqueued: 1_201, errors: [] });
    expect(q.received.map((r) => r.length)).toEqual([500, 500, 201]);
    expect(q.received.flat().map((m) => m.id)).toEqual(userIds);
    expect(await store.listOutbox()).toEqual([]);
  });

  it('keeps the records the queue did not take when it refuses part of a large page', async () => {
    const store = new FileStateStore(undefined);
    const userIds = Array.from({ length: 1_000 }, (_, i) => `u${i}`);
    const result = await sweepFailedPushes(sweepDeps(failedPushes([{ hasMore: false, failed: [push(userIds)] }]), queue(1), store));
    expect(result.enqueued).toBe(500);
    expect(result.errors).toHaveLength(500);
    expect((await store.listOutbox()).flatMap((r) => r.messages.map((m) => m.id))).toEqual(userIds.slice(500));
  });

  it('still enqueues a page the store would not save, says so, and reads no further', async () => {
    const store = new FileStateStore(undefined);
    store.putOutbox = async () => {
      throw new Error('store unavailable');
    };
    const q = queue();
    const dingtalk = failedPushes([
      { hasMore: true, failed: [push(['u1'])] },
      { hasMore: false, failed: [push(['u2'])] },
    ]);
    const result = await sweepFailedPushes(sweepDeps(dingtalk, q, store));
    expect(ids(q.received)).toEqual([['user u1']]);
    expect(result).toEqual({
      enqueued: 1,
      errors: [{ kind: 'user', id: '*', op: 'failed_push_sweep', message: 'could not save a failed-push page before enqueueing it: store unavailable' }],
    });
    expect(dingtalk.reads).toBe(1);
  });

  it('names what is lost when neither the store nor the queue would take a page', async () => {
    const store = new FileStateStore(undefined);
    store.putOutbox = async () => {
      throw new Error('store unavailable');
    };
    const result = await sweepFailedPushes(sweepDeps(failedPushes([{ hasMore: false, failed: [push(['u1'])] }]), queue(0), store));
    expect(result.errors.map((e) => `${e.id}: ${e.message}`)).toEqual([
      '*: could not save a failed-push page before enqueueing it: store unavailable',
      'u1: could not enqueue (not saved either, so only this report names it): queue unavailable',
    ]);
  });

  it('reads nothing from DingTalk when the outbox cannot be read', async () => {
    const store = new FileStateStore(undefined);
    store.listOutbox = async () => {
      throw new Error('store unavailable');
    };
    const dingtalk = failedPushes([{ hasMore: false, failed: [push(['u1'])] }]);
    const result = await sweepFailedPushes(sweepDeps(dingtalk, queue(), store));
    expect(result).toEqual({
      enqueued: 0,
      errors: [{ kind: 'user', id: '*', op: 'failed_push_sweep', message: 'could not read the failed-push outbox: store unavailable' }],
    });
    expect(dingtalk.reads).toBe(0);
  });

  it('stops when an enqueued record cannot be deleted (the next sweep enqueues it again)', async () => {
    const store = new FileStateStore(undefined);
    store.deleteOutbox = async () => {
      throw new Error('store unavailable');
    };
    const q = queue();
    const dingtalk = failedPushes([
      { hasMore: true, failed: [push(['u1'])] },
      { hasMore: false, failed: [push(['u2'])] },
    ]);
    const result = await sweepFailedPushes(sweepDeps(dingtalk, q, store));
    expect(ids(q.received)).toEqual([['user u1']]);
    expect(result.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^could not delete outbox record failed-push-1000-.*-0000 after enqueueing it: store unavailable$/),
    ]);
    expect(dingtalk.reads).toBe(1);
    expect(await store.listOutbox()).toHaveLength(1);
  });
});
