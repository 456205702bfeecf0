/**
 * A throttle never counts towards the dead letters: a change still throttled when its invocation
 * runs out of time goes back to the queue as a new message (lib/sync/throttle-requeue.ts),
 * through the whole pipeline (simulators over HTTP, callback, in-process queue, worker).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { runOneBatch } from '../../lib/local/worker-loop';
import { decodeMessage } from '../../lib/messages';
import { type SandboxPipeline, startSandboxPipeline } from '../../lib/sandbox/pipeline';
import { MAX_THROTTLED_MS } from '../../lib/sync/throttle-requeue';
import { WECOM_ERR } from '../../lib/wecom/errors';

let p: SandboxPipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

/** An invocation this short cannot wait out DingTalk's second, nor WeCom's. */
const SHORT = { invocationMs: 200 };

async function pipelineWith(userIds: string[]): Promise<SandboxPipeline> {
  // The record must start for its throttle to be met: no start reserve in so short an invocation.
  p = await startSandboxPipeline({}, { startReserveMs: 0 });
  await p.dt.pushEvent('user_add_org', { userIds });
  return p;
}

/** The one message waiting (received and put back, so its receive count shows). */
function waiting(q: SandboxPipeline['queue']) {
  const [m] = q.receive(1);
  if (!m) throw new Error('nothing waiting');
  q.nack(m.messageId); // back to the head of its group, with this receive counted
  return { ...m, message: decodeMessage(m.body) };
}

describe('a change still throttled when its time runs out', () => {
  it('goes back as a new message, not as a failure: the batch returns nothing and the receives start over', async () => {
    const { dt, queue, process, wc } = await pipelineWith(['zhangsan']);
    dt.failNext('topapi/v2/user/get', DINGTALK_ERR.rateLimited, 1);
    const first = await runOneBatch(queue, process, SHORT);
    expect(first?.response.batchItemFailures).toEqual([]);
    expect(first?.outcomes).toEqual([expect.objectContaining({ id: 'zhangsan', result: 'requeued', errcode: DINGTALK_ERR.rateLimited })]);
    const copy = waiting(queue);
    expect(copy.receiveCount).toBe(1); // the copy's first receive, just now
    expect(copy.message).toMatchObject({ kind: 'user', id: 'zhangsan', throttled: { requeues: 1 } });
    await p!.settle();
    expect(wc.getUser('zhangsan')?.enable).toBe(1);
  });

  it('never reaches the dead letters, however many times it is throttled, and syncs once the limit lifts', async () => {
    const { dt, queue, process, wc } = await pipelineWith(['zhangsan']);
    for (let round = 1; round <= 7; round++) {
      dt.failNext('topapi/v2/user/get', DINGTALK_ERR.rateLimited, 1);
      const r = await runOneBatch(queue, process, SHORT);
      expect(r?.outcomes.map((o) => o.result)).toEqual(['requeued']);
    }
    expect(queue.deadLetters).toEqual([]);
    expect(waiting(queue).message.throttled?.requeues).toBe(7);
    await p!.settle();
    expect(queue.deadLetters).toEqual([]);
    expect(wc.getUser('zhangsan')?.enable).toBe(1);
  });

  it('does the same for a WeCom write refused with 45009', async () => {
    const { wc, queue, process } = await pipelineWith(['zhangsan']);
    wc.failNext('user/create', WECOM_ERR.rateLimited, 1);
    const first = await runOneBatch(queue, process, SHORT);
    expect(first?.response.batchItemFailures).toEqual([]);
    expect(first?.outcomes.map((o) => o.result)).toEqual(['requeued']);
    await p!.settle();
    expect(wc.getUser('zhangsan')?.enable).toBe(1);
    expect(queue.deadLetters).toEqual([]);
  });

  it('leaves the other changes of the batch alone', async () => {
    const { dt, queue, process, wc } = await pipelineWith(['zhangsan', 'lisi']);
    dt.failNext('topapi/v2/user/get', DINGTALK_ERR.rateLimited, 1);
    const first = await runOneBatch(queue, process, SHORT);
    expect(first?.outcomes.map((o) => o.result).sort()).toEqual(['created', 'requeued']);
    await p!.settle();
    expect([wc.getUser('zhangsan')?.enable, wc.getUser('lisi')?.enable]).toEqual([1, 1]);
  });
});

describe('when sending it back is not the answer, the message comes back as a failure, as before', () => {
  it('a change throttled for longer than MAX_THROTTLED_MS: a limit that never lifts ends in the dead letters and their alarm', async () => {
    p = await startSandboxPipeline({}, { startReserveMs: 0 });
    const { dt, queue, process } = p;
    const since = Date.now() - MAX_THROTTLED_MS - 60_000;
    await queue.enqueue([{ kind: 'user', id: 'zhangsan', eventType: 'user_add_org', eventTime: 0, corpId: 'c', throttled: { requeues: 40, since } }]);
    dt.failNext('topapi/v2/user/get', DINGTALK_ERR.rateLimited, 1);
    const first = await runOneBatch(queue, process, SHORT);
    expect(first?.response.batchItemFailures).toHaveLength(1);
    expect(waiting(queue).receiveCount).toBe(2);
  });

  it('a queue that refuses the copy', async () => {
    const { dt, queue, process } = await pipelineWith(['zhangsan']);
    dt.failNext('topapi/v2/user/get', DINGTALK_ERR.rateLimited, 1);
    queue.rejectNextEnqueues = 1;
    const first = await runOneBatch(queue, process, SHORT);
    expect(first?.response.batchItemFailures).toHaveLength(1);
    expect(waiting(queue)).toMatchObject({ receiveCount: 2, message: { id: 'zhangsan' } });
    expect(waiting(queue).message.throttled).toBeUndefined();
  });
});
