/**
 * The worker against a slow WeCom: with the invocation's deadline near, records not yet started
 * go back to the queue as batch item failures, untouched, instead of the batch being cut off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { withLambdaDeadline } from '../../lib/invocation-deadline';
import { runOneBatch } from '../../lib/local/worker-loop';
import { type SandboxPipeline, startSandboxPipeline } from '../../lib/sandbox/pipeline';

let h: SandboxPipeline | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const USERS = ['u1', 'u2', 'u3', 'u4'];
/**
 * Below this much of the invocation left, no record starts: the deadline for platform calls
 * (lib/invocation-deadline.ts) is then under the worker's 5 s start reserve.
 */
const RESERVE_MS = 10_000;

/** One batch as the sync Lambda runs it, with `remainingMs` as its context's countdown. */
function inLambda(p: SandboxPipeline, remainingMs: () => number) {
  return runOneBatch(p.queue, (event) => withLambdaDeadline({ getRemainingTimeInMillis: remainingMs }, () => p.process(event)));
}
/** How long the slow WeCom takes to answer a user create. */
const SLOW_MS = 1_000;

/** A pipeline with one queued `user_add_org` per user of USERS, and nothing synced yet. */
async function queuedNewUsers(): Promise<SandboxPipeline> {
  h = await startSandboxPipeline();
  for (const userid of USERS) h.dt.addUser({ userid, name: userid, email: `${userid}@example.com`, dept_id_list: [4] });
  await h.dt.idle();
  expect(h.queue.depth).toBe(USERS.length);
  h.dt.resetCalls();
  h.wc.resetCalls();
  return h;
}

/** Users the worker left alone: never read from DingTalk, nothing written to WeCom or the store. */
async function untouched(p: SandboxPipeline, ids: string[]): Promise<boolean[]> {
  return Promise.all(ids.map(async (id) => p.wc.getUser(id) === undefined && (await p.store.get('user', id)) === undefined));
}

describe('sync batches respect their deadline', () => {
  it('a slow WeCom: once under 10 s remain, no further record starts; those come back as batch item failures and sync on the next receive', async () => {
    const p = await queuedNewUsers();
    p.wc.delayMs('user/create', SLOW_MS);
    // A real countdown, as Lambda's context gives: 1.5 slow answers above the reserve. The first
    // record always starts; the third cannot, since two creates alone take 2 × SLOW_MS.
    const deadlineAt = Date.now() + RESERVE_MS + 1.5 * SLOW_MS;
    const first = (await inLambda(p, () => deadlineAt - Date.now()))!;

    const started = first.outcomes.map((o) => o.id);
    expect(started.length).toBeGreaterThanOrEqual(1);
    expect(started.length).toBeLessThanOrEqual(2);
    expect(started).toEqual(USERS.slice(0, started.length)); // in order: FIFO
    expect(first.outcomes.every((o) => o.result === 'created')).toBe(true);
    expect(first.notStarted).toBe(USERS.length - started.length);
    expect(first.response.batchItemFailures).toHaveLength(first.notStarted);
    // Not started means not started: no DingTalk read, no WeCom call, no state for them.
    const left = USERS.slice(started.length);
    expect(await untouched(p, left)).toEqual(left.map(() => true));
    expect(p.dt.calls['topapi/v2/user/get']).toBe(started.length);
    expect(p.wc.calls['user/create']).toBe(started.length);
    expect(p.logger.entries.some((e) => e.message === 'deadline near: records left for a later receive')).toBe(true);

    // They are back on the queue, and the next invocation, with its full time, syncs them.
    expect(p.queue.depth).toBe(left.length);
    p.wc.delayMs('user/create', 0);
    const second = (await inLambda(p, () => 60_000))!;
    expect(second.outcomes.map((o) => [o.id, o.result])).toEqual(left.map((id) => [id, 'created']));
    expect(second.response.batchItemFailures).toEqual([]);
    expect(USERS.map((id) => p.wc.getUser(id)?.enable)).toEqual([1, 1, 1, 1]);
  });

  it('with less than the reserve left from the start, the whole batch goes back without a single call', async () => {
    const p = await queuedNewUsers();
    const result = (await inLambda(p, () => RESERVE_MS - 1))!;
    expect(result.outcomes).toEqual([]);
    expect(result.notStarted).toBe(USERS.length);
    expect(result.response.batchItemFailures).toHaveLength(USERS.length);
    expect(await untouched(p, USERS)).toEqual(USERS.map(() => true));
    expect(p.dt.calls).toEqual({});
    expect(p.wc.calls).toEqual({});
    expect(p.queue.depth).toBe(USERS.length);
  });

  it('a record started just above the reserve cannot outlast the invocation: its calls stop before the end, and it comes back', async () => {
    h = await startSandboxPipeline();
    const p = h;
    // A new user in a new department: six calls in a row (two tokens, two reads, two creates), each slow but in time.
    p.dt.addUser({ userid: 'late', name: 'late', email: 'late@example.com', dept_id_list: [4] });
    await p.dt.idle();
    for (const api of ['gettoken', 'topapi/v2/user/get', 'topapi/v2/department/get']) p.dt.delayMs(api, 2_000);
    for (const api of ['gettoken', 'department/create', 'user/create']) p.wc.delayMs(api, 2_000);

    const deadlineAt = Date.now() + RESERVE_MS + 500; // Lambda's countdown: the reserve plus half a second
    const result = (await inLambda(p, () => deadlineAt - Date.now()))!;
    // In Lambda, past the deadline the invocation is killed and its batch response never returned.
    expect(Date.now()).toBeLessThanOrEqual(deadlineAt);
    expect(result.outcomes).toEqual([]);
    expect(result.response.batchItemFailures).toHaveLength(1);

    for (const api of ['gettoken', 'topapi/v2/user/get', 'topapi/v2/department/get']) p.dt.delayMs(api, 0);
    for (const api of ['gettoken', 'department/create', 'user/create']) p.wc.delayMs(api, 0);
    await p.settle();
    expect(p.wc.getUser('late')).toMatchObject({ department: [4], enable: 1 });
  }, 60_000);

  it('without a deadline (the local worker loop), every record runs', async () => {
    const p = await queuedNewUsers();
    const result = (await runOneBatch(p.queue, p.process))!;
    expect(result.notStarted).toBe(0);
    expect(result.outcomes.map((o) => o.id)).toEqual(USERS);
  });
});
