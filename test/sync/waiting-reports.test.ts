/**
 * The people waiting for a manager go to the queue once the worker's write makes that manager
 * able to lead (lib/sync/waiting-reports.ts), through the whole pipeline: simulators over HTTP,
 * callback, in-process FIFO queue, worker, embedded store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runOneBatch } from '../../lib/local/worker-loop';
import { decodeMessage } from '../../lib/messages';
import type { StateStore } from '../../lib/ports';
import { type SandboxPipeline, startSandboxPipeline } from '../../lib/sandbox/pipeline';
import { MANAGER_CAN_LEAD } from '../../lib/sync/waiting-reports';

let p: SandboxPipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

/** zhangsan (managed by lisi) synced while lisi is not in WeCom: she waits for lisi. */
async function zhangsanWaitingForLisi(): Promise<SandboxPipeline> {
  p = await startSandboxPipeline();
  await p.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
  await p.settle();
  expect(await p.store.awaitingLeader('lisi')).toEqual(['zhangsan']);
  return p;
}

/** The messages waiting in the queue, with their attributes (the trail), put back as they were. */
function waitingMessages(q: SandboxPipeline['queue']) {
  const received = q.receive(10);
  for (const m of received) q.nack(m.messageId);
  return received.map((m) => ({ ...decodeMessage(m.body), attributes: m.attributes }));
}

describe('once a manager can lead', () => {
  it('each person waiting for them is sent as a change of their own, with the trail of the change that made it so, and written with the line', async () => {
    const { dt, wc, queue, process, settle } = await zhangsanWaitingForLisi();
    await dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    const [lisi] = waitingMessages(queue);
    const batch = await runOneBatch(queue, process);
    expect(batch?.outcomes).toEqual([expect.objectContaining({ id: 'lisi', result: 'created' })]);
    const [sent, ...more] = waitingMessages(queue);
    expect(more).toEqual([]);
    expect(sent).toMatchObject({ kind: 'user', id: 'zhangsan', eventType: MANAGER_CAN_LEAD });
    expect(Object.keys(sent!.attributes).length).toBeGreaterThan(0);
    expect(sent!.attributes).toEqual(lisi!.attributes); // the same correlation id: one story in the logs
    await settle();
    expect(wc.getUser('zhangsan')?.direct_leader).toEqual(['lisi']);
    expect(await p!.store.awaitingLeader('lisi')).toEqual([]);
  });

  it('nobody waiting: nothing is sent', async () => {
    p = await startSandboxPipeline();
    await p.dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    expect((await runOneBatch(p.queue, p.process))?.outcomes).toEqual([expect.objectContaining({ id: 'lisi', result: 'created' })]);
    expect(p.queue.depth).toBe(0);
  });

  it('a queue that refuses them does not fail the manager’s change: it is done, and the reconcile writes the line', async () => {
    const { dt, wc, queue, process } = await zhangsanWaitingForLisi();
    await dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    queue.rejectNextEnqueues = 1;
    const batch = await runOneBatch(queue, process);
    expect(batch?.response.batchItemFailures).toEqual([]);
    expect(batch?.outcomes).toEqual([expect.objectContaining({ id: 'lisi', result: 'created' })]);
    expect(queue.depth).toBe(0);
    expect(wc.getUser('zhangsan')?.direct_leader ?? []).toEqual([]);
    expect(await p!.store.get('user', 'zhangsan')).toMatchObject({ leaderWithheld: 'lisi' }); // still waiting, for the reconcile
  });
});

describe('costs nothing when no one new can lead', () => {
  it('an event for someone who already led asks the store for nobody', async () => {
    const { dt, queue, process, store } = await zhangsanWaitingForLisi();
    const asked: string[] = [];
    const original = store.awaitingLeader.bind(store);
    (store as StateStore).awaitingLeader = async (manager) => {
      asked.push(manager);
      return original(manager);
    };
    await dt.pushEvent('user_modify_org', { userIds: ['zhangsan'] });
    await runOneBatch(queue, process);
    await dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await runOneBatch(queue, process);
    expect(asked).toEqual(['lisi']); // zhangsan already led; lisi just became able to
  });
});
