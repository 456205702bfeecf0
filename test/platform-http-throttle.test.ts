/**
 * Throttles and pacing in lib/platform-http.ts, against the simulators over HTTP: a call the
 * platform throttles (DingTalk 90018, WeCom 45009/45033) is made again within the invocation
 * while its time allows; calls are paced by the process's budget (lib/rate-budget.ts); what is
 * left when time runs out is thrown marked `throttled`, for the worker to hand back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DingTalkApi, resetDingTalkTokenCache } from '../lib/dingtalk/api';
import { DINGTALK_ERR } from '../lib/dingtalk/errors';
import { isThrottle } from '../lib/errors';
import { withInvocationDeadline } from '../lib/invocation-deadline';
import { createMemoryLogger } from '../lib/log';
import type { PlatformClientOptions } from '../lib/platform-http';
import { RateBudget } from '../lib/rate-budget';
import { DingTalkSimulator } from '../lib/sandbox/dingtalk-sim';
import { seedSandboxOrg } from '../lib/sandbox/seed';
import { WeComSimulator } from '../lib/sandbox/wecom-sim';
import { resetWeComTokenCache, WeComApi } from '../lib/wecom/api';
import { WECOM_ERR } from '../lib/wecom/errors';
import { failure } from './support/fake-platform';

const sims: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
  resetDingTalkTokenCache();
  resetWeComTokenCache();
});

type Extra = Partial<PlatformClientOptions>;

async function dingtalk(rateLimitPerSecond: number | null, extra: Extra = {}) {
  const dt = new DingTalkSimulator({ rateLimitPerSecond, retryDelaysMs: [] });
  seedSandboxOrg(dt);
  const baseUrl = await dt.start(0);
  sims.push(dt);
  const logger = createMemoryLogger();
  return { dt, logger, api: new DingTalkApi({ appKey: dt.appKey, appSecret: dt.appSecret, baseUrl, logger, ...extra }) };
}

async function wecom(extra: Extra = {}) {
  const wc = new WeComSimulator({ rateLimitPerMinute: null });
  const baseUrl = await wc.start(0);
  sims.push(wc);
  return { wc, api: new WeComApi({ corpId: wc.corpId, secret: wc.contactSecret, baseUrl, logger: createMemoryLogger(), ...extra }) };
}

const member = (userid: string) => ({ userid, name: userid, department: [1], mobile: `+86 1380000${userid.length}${userid.charCodeAt(0) % 10}00` });

describe('DingTalk 90018', () => {
  it('is waited out and the call made again, within the invocation, saying so in the log', async () => {
    const { dt, api, logger } = await dingtalk(null, { throttleDelaysMs: [10, 10, 10] });
    dt.failNext('topapi/v2/user/get', DINGTALK_ERR.rateLimited, 2);
    expect(await api.getUser('zhangsan')).toMatchObject({ userid: 'zhangsan', name: '张三' });
    expect(dt.calls['topapi/v2/user/get']).toBe(3);
    expect(logger.entries.filter((e) => e.level === 'warn' && e.api === 'topapi/v2/user/get').map((e) => e.attempt)).toEqual([1, 2]);
  });

  it('from the simulator’s own 20/s-style limit: calls beyond it are refused, then made again a second later', async () => {
    const { dt, api } = await dingtalk(2); // unpaced, against 2 calls/s per API
    await api.getUser('lisi'); // the token, fetched before the burst
    // The simulator counts calls in whole seconds of the clock: the burst starts just after one
    // begins, so it cannot be split across two windows that would each let two calls through.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const users = await Promise.all(['zhangsan', 'lisi', 'wangwu', 'zhangsan'].map((id) => api.getUser(id)));
    expect(users.map((u) => u.userid)).toEqual(['zhangsan', 'lisi', 'wangwu', 'zhangsan']);
    expect(dt.throttled['topapi/v2/user/get']).toBeGreaterThanOrEqual(2);
  });

  it('is not met when the calls are paced below the limit', async () => {
    const budget = new RateBudget({ perSecond: 4 });
    const { dt, api } = await dingtalk(5, { budget });
    await Promise.all(['zhangsan', 'lisi', 'wangwu', 'zhangsan', 'lisi', 'wangwu'].map((id) => api.getUser(id)));
    expect(dt.calls['topapi/v2/user/get']).toBe(6);
    expect(dt.throttled['topapi/v2/user/get'] ?? 0).toBe(0);
  });

  it('is thrown, marked throttled, when waiting would run past the invocation’s deadline', async () => {
    const { dt, api } = await dingtalk(null); // DingTalk's own wait: a second
    dt.failNext('topapi/v2/user/get', DINGTALK_ERR.rateLimited, 3);
    const error = await failure(withInvocationDeadline(Date.now() + 900, () => api.getUser('zhangsan')));
    expect(error).toMatchObject({ errcode: DINGTALK_ERR.rateLimited, failure: 'retryable', throttled: true });
    expect(isThrottle(error)).toBe(true);
    expect(dt.calls['topapi/v2/user/get']).toBe(1);
  });

  it('without a deadline, is thrown once the waits are used up', async () => {
    const { dt, api } = await dingtalk(null, { throttleDelaysMs: [5] });
    dt.failNext('topapi/v2/user/get', DINGTALK_ERR.rateLimited, 2);
    expect(await failure(api.getUser('zhangsan'))).toMatchObject({ errcode: DINGTALK_ERR.rateLimited, throttled: true });
    expect(dt.calls['topapi/v2/user/get']).toBe(2);
  });

  it('other failures are not waited out here: they are the queue’s to retry', async () => {
    const { dt, api } = await dingtalk(null, { throttleDelaysMs: [5, 5] });
    dt.failNext('topapi/v2/user/get', DINGTALK_ERR.systemBusy, 1);
    expect(await failure(api.getUser('zhangsan'))).toMatchObject({ errcode: DINGTALK_ERR.systemBusy, failure: 'retryable', throttled: false });
    expect(dt.calls['topapi/v2/user/get']).toBe(1);
  });
});

describe('pacing against the invocation’s deadline', () => {
  it('makes no call whose slot would come after the deadline: it is thrown at once, marked throttled', async () => {
    const budget = new RateBudget({ perSecond: 1 });
    const { dt, api } = await dingtalk(null, { budget });
    await withInvocationDeadline(Date.now() + 900, async () => {
      await api.getUser('zhangsan');
      const error = await failure(api.getUser('lisi'));
      expect(error).toMatchObject({ errcode: DINGTALK_ERR.systemBusy, throttled: true });
      expect(error.message).toMatch(/no call slot left before the invocation's deadline/);
    });
    expect(dt.calls['topapi/v2/user/get']).toBe(1);
  });
});

describe('WeCom 45009 and 45033', () => {
  it.each([
    ['45009 frequency limit', WECOM_ERR.rateLimited],
    ['45033 too many concurrent calls', WECOM_ERR.tooManyConcurrent],
  ])('%s is waited out and the write made again, within the invocation', async (_name, errcode) => {
    const { wc, api } = await wecom({ throttleDelaysMs: [10, 10] });
    wc.failNext('user/create', errcode, 2);
    await api.createUser(member('alice'));
    expect(wc.getUser('alice')).toMatchObject({ name: 'alice' });
    expect(wc.calls['user/create']).toBe(3);
  });

  it('HTTP 429 in front of WeCom counts as a throttle too', async () => {
    const { wc, api } = await wecom({ throttleDelaysMs: [10] });
    wc.failNextHttp('user/create', 429);
    await api.createUser(member('bob'));
    expect(wc.calls['user/create']).toBe(2);
  });

  it('waits longer than DingTalk, as WeCom blocks the rest of its window: none of it past the deadline', async () => {
    const { wc, api } = await wecom();
    wc.failNext('user/create', WECOM_ERR.rateLimited, 1);
    const error = await failure(withInvocationDeadline(Date.now() + 900, () => api.createUser(member('carol'))));
    expect(error).toMatchObject({ errcode: WECOM_ERR.rateLimited, throttled: true });
    expect(wc.getUser('carol')).toBeUndefined();
  });
});
