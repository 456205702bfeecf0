/**
 * Pushes to a callback URL (lib/sandbox/dingtalk-pusher.ts), checked by independent receivers
 * built on lib/dingtalk/crypto: the envelope, the signature and encryption, the retries, the
 * failed list they end in, and what stopping the simulator does to pushes in flight.
 */
import type { Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FailedPushList } from '../../lib/sandbox/dingtalk-failed-pushes';
import { DingTalkPusher } from '../../lib/sandbox/dingtalk-pusher';
import { DingTalkSimulator, type DingTalkSimulatorOptions } from '../../lib/sandbox/dingtalk-sim';
import { NOTHING_LISTENS } from '../support/nothing-listens';
import { AES_KEY, closeAll, dingtalkClient, manualClock, type ReceiverReply, receiver as startReceiver, TOKEN } from './support';

let sim: DingTalkSimulator;
const servers: Server[] = [];
const { get, token } = dingtalkClient(() => sim);

async function startSim(opts: DingTalkSimulatorOptions = {}): Promise<void> {
  sim = new DingTalkSimulator(opts);
  await sim.start();
}

afterEach(async () => {
  await sim?.stop();
  await closeAll(servers);
});

/** A callback receiver for the current simulator's app key. */
function receiver(reply: (event: Record<string, unknown>, attempt: number) => ReceiverReply) {
  return startReceiver(servers, sim.appKey, reply);
}

describe("pushes are signed, encrypted, retried and listed as failed like DingTalk's", () => {
  it('pushEvent sends several ids in one event; checkUrl sends the bare check_url', async () => {
    await startSim({ retryDelaysMs: [] });
    const r = await receiver(() => 'good');
    sim.setCallback({ url: r.url, token: TOKEN, aesKey: AES_KEY });
    const outcome = await sim.pushEvent('user_modify_org', { userIds: ['a', 'b', 'c'] });
    await sim.pushEvent('org_dept_modify', { deptIds: [7, 8], deptIdsAsStrings: true });
    await sim.checkUrl();
    expect(outcome).toMatchObject({ delivered: true, attempts: 1, userIds: ['a', 'b', 'c'] });
    expect(r.events[0]).toMatchObject({ EventType: 'user_modify_org', UserId: ['a', 'b', 'c'] });
    expect(r.events[1]).toMatchObject({ DeptId: ['7', '8'] });
    expect(r.events[2]).toEqual({ EventType: 'check_url' });
  });

  it.each([
    ['an HTTP 500', 500 as const, /HTTP 500/],
    ['an unencrypted reply', 'plain' as const, /lacks/],
    ['a reply encrypted with another owner key', 'wrong-owner' as const, /decrypt/],
  ])('retries after %s and then lists the event as failed', async (_name, how, reason) => {
    await startSim({ retryDelaysMs: [5, 5] });
    const r = await receiver(() => how);
    sim.setCallback({ url: r.url, token: TOKEN, aesKey: AES_KEY });
    sim.addUser({ userid: 'lost', name: '丢', mobile: '13900000003', dept_id_list: [1] });
    await sim.idle();
    expect(r.events).toHaveLength(3); // the first try and two retries
    expect(sim.pushes[0]).toMatchObject({ delivered: false, attempts: 3 });
    expect(sim.pushes[0]!.errors[0]).toMatch(reason);
    const t = await token();
    const failed = await get('call_back/get_call_back_failed_result', { access_token: t });
    expect(failed.json).toMatchObject({
      errcode: 0,
      has_more: false,
      failed_list: [{ call_back_tag: 'user_add_org', user_add_org: { userid: ['lost'], corpid: sim.corpId } }],
    });
  });

  it('a receiver that recovers before the last retry gets the event delivered, not listed', async () => {
    await startSim({ retryDelaysMs: [5, 5] });
    const r = await receiver((_e, n) => (n === 1 ? 500 : 'good'));
    sim.setCallback({ url: r.url, token: TOKEN, aesKey: AES_KEY });
    const outcome = await sim.pushEvent('org_dept_create', { deptIds: [42] });
    expect(outcome).toMatchObject({ delivered: true, attempts: 2 });
    expect(sim.failedBacklog).toBe(0);
  });

  it('stop() ends pending retries without listing the event: a stopped DingTalk did not give up', async () => {
    await startSim({ retryDelaysMs: [60_000] });
    const r = await receiver(() => 500);
    sim.setCallback({ url: r.url, token: TOKEN, aesKey: AES_KEY });
    const outcome = sim.pushEvent('user_add_org', { userIds: ['x'] });
    while (r.events.length === 0) await new Promise((res) => setTimeout(res, 5));
    await sim.stop();
    expect(await outcome).toMatchObject({ delivered: false, attempts: 1 });
    expect(sim.failedBacklog).toBe(0);
  });

  it('an unreachable receiver ends in the failed list with dept ids under deptid', async () => {
    await startSim({ retryDelaysMs: [], pushTimeoutMs: 500 });
    sim.setCallback({ url: `${NOTHING_LISTENS}/cb`, token: TOKEN, aesKey: AES_KEY });
    const outcome = await sim.pushEvent('org_dept_remove', { deptIds: [5, 6] });
    expect(outcome.errors[0]).toMatch(/no answer/);
    const failed = await get('call_back/get_call_back_failed_result', { access_token: await token() });
    expect(failed.json.failed_list).toEqual([
      { call_back_tag: 'org_dept_remove', event_time: expect.any(Number), org_dept_remove: { deptid: [5, 6], corpid: sim.corpId } },
    ]);
  });
});

describe('the pusher on its own: envelope, settings read when needed, what is listed', () => {
  const APP_KEY = 'pusher-app-key';
  // The simulator's lifetime: aborted after each test, as stop() does.
  let stop: AbortController;
  beforeEach(() => {
    stop = new AbortController();
  });
  afterEach(() => stop.abort());

  function pusher(settings: { retryDelaysMs: number[] }) {
    const failed = new FailedPushList();
    const p = new DingTalkPusher({
      clock: manualClock(),
      corpId: 'dingcorp',
      defaultOwnerKey: APP_KEY,
      failed,
      settings: () => ({ retryDelaysMs: settings.retryDelaysMs, timeoutMs: 1500, lifetime: stop.signal }),
    });
    return { p, failed };
  }

  it('stamps the event with the clock and the corp id, and leaves out what was not given', async () => {
    const r = await startReceiver(servers, APP_KEY, () => 'good');
    const { p } = pusher({ retryDelaysMs: [] });
    p.setCallback({ url: r.url, token: TOKEN, aesKey: AES_KEY });
    expect(await p.pushEvent('user_add_org', { userIds: ['a'] })).toMatchObject({ delivered: true, attempts: 1, deptIds: [] });
    expect(r.events).toEqual([{ EventType: 'user_add_org', CorpId: 'dingcorp', UserId: ['a'], TimeStamp: '1700000000000' }]);
    expect(p.outcomes).toHaveLength(1);
  });

  it('lists a failed event but never a failed URL check', async () => {
    const r = await startReceiver(servers, APP_KEY, () => 500);
    const { p, failed } = pusher({ retryDelaysMs: [] });
    p.setCallback({ url: r.url, token: TOKEN, aesKey: AES_KEY });
    expect(await p.checkUrl()).toMatchObject({ eventType: 'check_url', delivered: false, attempts: 1 });
    expect(failed.backlog).toBe(0);
    await p.pushEvent('org_dept_create', { deptIds: [3] });
    expect(failed.read().page).toEqual([{ eventType: 'org_dept_create', eventTime: 1_700_000_000_000, userIds: [], deptIds: [3] }]);
  });

  it('reads the retry delays when it retries, so a change made during a push applies to it', async () => {
    const settings = { retryDelaysMs: [30] };
    const r = await startReceiver(servers, APP_KEY, () => 500);
    const { p } = pusher(settings);
    p.setCallback({ url: r.url, token: TOKEN, aesKey: AES_KEY });
    const outcome = p.pushEvent('user_modify_org', { userIds: ['a'] });
    while (r.events.length === 0) await new Promise((res) => setTimeout(res, 5));
    settings.retryDelaysMs = [30, 30];
    expect(await outcome).toMatchObject({ delivered: false, attempts: 3 });
  });

  it('refuses to push without a callback, and refuses a bad AES key when the callback is set', () => {
    const { p } = pusher({ retryDelaysMs: [] });
    expect(() => p.pushEvent('user_add_org', { userIds: ['a'] })).toThrow(/no callback/);
    expect(() => p.setCallback({ url: 'http://127.0.0.1:1/cb', token: TOKEN, aesKey: 'too-short' })).toThrow();
    expect(p.hasCallback).toBe(false);
    p.setCallback({ url: 'http://127.0.0.1:1/cb', token: TOKEN, aesKey: AES_KEY });
    expect(p.hasCallback).toBe(true);
    p.setCallback(undefined);
    expect(p.hasCallback).toBe(false);
  });
});
