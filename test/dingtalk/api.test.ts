import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DingTalkApi, resetDingTalkTokenCache } from '../../lib/dingtalk/api';
import { DINGTALK_ERR, ERRCODE_BAD_ANSWER, isDeptGone, isOutOfScope, isUserGone } from '../../lib/dingtalk/errors';
import { ERRCODE_PROTOCOL } from '../../lib/errors';
import { createMemoryLogger } from '../../lib/log';
import { DingTalkSimulator } from '../../lib/sandbox/dingtalk-sim';
import { DINGTALK_ROOT_DEPT_ID } from '../../lib/sync/mapping';
import {
  type FakePlatform,
  failure,
  fakeClock,
  fakeDingTalkOptions,
  type Reply,
  type Route,
  startFakePlatform,
  stopFakePlatforms,
} from '../support/fake-platform';
import { NOTHING_LISTENS } from '../support/nothing-listens';

const APP_KEY = 'dingappkey123';
const APP_SECRET = 'app-secret-VERY-SECRET';

type FakeDingTalk = FakePlatform;

/** DingTalk's server API as far as the client tests need it. */
function fakeDingTalk(routes: Record<string, Route> = {}): Promise<FakeDingTalk> {
  return startFakePlatform(fakeDingTalkOptions(APP_KEY, APP_SECRET), routes);
}

function client(fake: FakeDingTalk, extra: Partial<ConstructorParameters<typeof DingTalkApi>[0]> = {}) {
  return new DingTalkApi({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: fake.baseUrl, logger: createMemoryLogger(), ...extra });
}

const ok = (result: unknown): Reply => ({ json: { errcode: 0, errmsg: 'ok', result, request_id: 'r1' } });
const alice = { userid: 'alice', name: 'Alice', dept_id_list: [1] };

beforeEach(() => resetDingTalkTokenCache());
afterEach(stopFakePlatforms);

describe('DingTalkApi fetches one access token, shares it and replaces it once when rejected', () => {
  it('fetches one token and reuses it across calls and instances', async () => {
    const fake = await fakeDingTalk({ 'topapi/v2/user/get': () => ok(alice) });
    const a = client(fake);
    const b = client(fake);
    await a.getUser('alice');
    await a.getUser('alice');
    await b.getUser('alice');
    expect(fake.count('gettoken')).toBe(1);
    expect(fake.seen.filter((s) => s.path !== '/gettoken').map((s) => s.query.get('access_token'))).toEqual(['tok-1', 'tok-1', 'tok-1']);
  });

  it('shares one gettoken among concurrent callers', async () => {
    const fake = await fakeDingTalk({ 'topapi/v2/user/get': () => ok(alice) });
    const api = client(fake);
    await Promise.all([api.getUser('alice'), api.getUser('alice'), client(fake).getUser('alice')]);
    expect(fake.count('gettoken')).toBe(1);
  });

  it('refreshes the token before it expires, not long before', async () => {
    const fake = await fakeDingTalk({ 'topapi/v2/user/get': () => ok(alice) });
    const clock = fakeClock();
    const api = client(fake, { clock });
    await api.getUser('alice');
    clock.t += 60 * 60_000; // 1 h into a 2 h token
    await api.getUser('alice');
    expect(fake.count('gettoken')).toBe(1);
    clock.t += 56 * 60_000; // 4 min before expiry: inside the refresh margin
    await api.getUser('alice');
    expect(fake.count('gettoken')).toBe(2);
    expect(fake.seen.at(-1)?.query.get('access_token')).toBe('tok-2');
  });

  it('keeps using a still-valid token when an early refresh fails for a passing reason', async () => {
    const fake = await fakeDingTalk({ 'topapi/v2/user/get': () => ok(alice) });
    const clock = fakeClock();
    const api = client(fake, { clock });
    await api.getUser('alice');
    clock.t += 116 * 60_000; // inside the refresh margin, not yet expired
    fake.gettoken = () => ({ status: 503, raw: 'busy' });
    await expect(api.getUser('alice')).resolves.toMatchObject({ userid: 'alice' });
    expect(fake.seen.at(-1)?.query.get('access_token')).toBe('tok-1');
    clock.t += 5 * 60_000; // now expired: the failure shows
    expect(await failure(api.getUser('alice'))).toMatchObject({ api: 'gettoken', errcode: 503 });
  });

  it('on 40014 fetches a new token once and retries the call once', async () => {
    const fake = await fakeDingTalk({ 'topapi/v2/user/get': () => ok(alice) });
    const api = client(fake);
    await api.getUser('alice');
    fake.valid.clear(); // DingTalk invalidated tok-1
    const user = await api.getUser('alice');
    expect(user.userid).toBe('alice');
    expect(fake.count('gettoken')).toBe(2);
    expect(fake.seen.map((s) => `${s.path} ${s.query.get('access_token') ?? ''}`)).toEqual([
      '/gettoken ',
      '/topapi/v2/user/get tok-1',
      '/topapi/v2/user/get tok-1',
      '/gettoken ',
      '/topapi/v2/user/get tok-2',
    ]);
  });

  it('treats 88 with sub_code 42001 as a rejected token too', async () => {
    let first = true;
    const fake = await fakeDingTalk({
      'topapi/v2/user/get': () => {
        if (!first) return ok(alice);
        first = false;
        return {
          json: {
            errcode: DINGTALK_ERR.authException,
            sub_code: String(DINGTALK_ERR.expiredToken),
            sub_msg: 'access_token已过期',
            errmsg: 'ding talk error[subcode=42001]',
          },
        };
      },
    });
    await expect(client(fake).getUser('alice')).resolves.toMatchObject({ userid: 'alice' });
    expect(fake.count('gettoken')).toBe(2);
  });

  it('throws when the fresh token is rejected too, without looping', async () => {
    const fake = await fakeDingTalk({
      'topapi/v2/user/get': () => ({ json: { errcode: DINGTALK_ERR.expiredToken, errmsg: 'access_token超时' } }),
    });
    const e = await failure(client(fake).getUser('alice'));
    expect(e).toMatchObject({ platform: 'dingtalk', api: 'topapi/v2/user/get', errcode: DINGTALK_ERR.expiredToken, failure: 'retryable' });
    expect(fake.count('gettoken')).toBe(2);
    expect(fake.count('topapi/v2/user/get')).toBe(2);
  });

  it('reports bad app credentials as a configuration error and does not hammer gettoken', async () => {
    const fake = await fakeDingTalk({ 'topapi/v2/user/get': () => ok(alice) });
    const logger = createMemoryLogger();
    const api = new DingTalkApi({ appKey: APP_KEY, appSecret: 'wrong-secret', baseUrl: fake.baseUrl, logger });
    const e = await failure(api.getUser('alice'));
    expect(e).toMatchObject({ api: 'gettoken', errcode: DINGTALK_ERR.badCredentials, failure: 'configuration' });
    const again = await failure(api.getUser('alice'));
    expect(again.errcode).toBe(DINGTALK_ERR.badCredentials);
    expect(fake.count('gettoken')).toBe(1);
    expect(fake.count('topapi/v2/user/get')).toBe(0);
    expect(logger.entries.find((l) => l.level === 'error')?.fix).toMatch(/DINGTALK_APP_KEY/);
  });
});

describe('DingTalkApi checks every answer and reads it without losing a digit', () => {
  it('checks the errcode of every call and names the API', async () => {
    const fail =
      (errcode: number, errmsg: string): Route =>
      () => ({ json: { errcode, errmsg } });
    const fake = await fakeDingTalk({
      'topapi/v2/user/get': fail(DINGTALK_ERR.userNotFound, '找不到该用户'),
      'topapi/v2/department/get': fail(DINGTALK_ERR.deptNotFound, '部门不存在'),
      'topapi/v2/department/listsub': fail(DINGTALK_ERR.deptOutOfScope, '部门不在权限范围内'),
      'topapi/v2/user/list': fail(DINGTALK_ERR.rateLimited, '限流'),
      'topapi/user/listid': fail(DINGTALK_ERR.userOutOfScope, '员工不在权限范围'),
      'call_back/get_call_back_failed_result': fail(DINGTALK_ERR.systemBusy, '系统繁忙'),
    });
    // The throttle as the client first sees it: waiting it out is tested in test/platform-http-throttle.test.ts.
    const api = client(fake, { throttleDelaysMs: [] });

    const user = await failure(api.getUser('bob'));
    expect(user).toMatchObject({ api: 'topapi/v2/user/get', errcode: DINGTALK_ERR.userNotFound, failure: 'permanent' });
    expect(isUserGone(user)).toBe(true);

    const dept = await failure(api.getDept(7));
    expect(dept).toMatchObject({ api: 'topapi/v2/department/get', errcode: DINGTALK_ERR.deptNotFound, failure: 'permanent' });
    expect(isDeptGone(dept)).toBe(true);

    const sub = await failure(api.listSubDepts(7));
    expect(sub).toMatchObject({ api: 'topapi/v2/department/listsub', errcode: DINGTALK_ERR.deptOutOfScope, failure: 'configuration' });
    expect(isOutOfScope(sub)).toBe(true);

    expect(await failure(api.listUsers(7, 0, 100))).toMatchObject({ api: 'topapi/v2/user/list', errcode: DINGTALK_ERR.rateLimited, failure: 'retryable' });
    expect(await failure(api.listUserIds(7))).toMatchObject({ api: 'topapi/user/listid', errcode: DINGTALK_ERR.userOutOfScope, failure: 'configuration' });
    expect(await failure(api.getFailedPushes())).toMatchObject({
      api: 'call_back/get_call_back_failed_result',
      errcode: DINGTALK_ERR.systemBusy,
      failure: 'retryable',
    });
  });

  it('reads the sub_code of errcode 88', async () => {
    const fake = await fakeDingTalk({
      'topapi/v2/user/get': () => ({
        json: {
          errcode: DINGTALK_ERR.authException,
          sub_code: String(DINGTALK_ERR.noContactPermission),
          sub_msg: '没有调用该接口的权限',
          errmsg: 'ding talk error[subcode=60011,submsg=没有调用该接口的权限]',
        },
      }),
    });
    const e = await failure(client(fake).getUser('alice'));
    expect(e).toMatchObject({ errcode: DINGTALK_ERR.noContactPermission, failure: 'configuration' });
    expect(e.errmsg).toContain(`sub_code ${DINGTALK_ERR.noContactPermission}`);
  });

  it('sends the documented requests', async () => {
    const fake = await fakeDingTalk({
      'topapi/v2/user/get': () => ok(alice),
      'topapi/v2/department/get': () => ok({ dept_id: 7, name: 'R&D', parent_id: 1, order: 3 }),
      'topapi/v2/department/listsub': () => ok([{ dept_id: 8, name: 'QA', parent_id: 7 }]),
      'topapi/v2/user/list': () => ok({ has_more: true, next_cursor: 100, list: [alice] }),
      'topapi/user/listid': () => ok({ userid_list: ['alice', '0042'] }),
    });
    const api = client(fake);
    await api.getUser('alice');
    await expect(api.getDept(7)).resolves.toEqual({ dept_id: 7, name: 'R&D', parent_id: 1, order: '3' });
    await expect(api.listSubDepts(7)).resolves.toEqual([{ dept_id: 8, name: 'QA', parent_id: 7 }]);
    await expect(api.listUsers(7, 0, 100)).resolves.toEqual({
      hasMore: true,
      nextCursor: 100,
      list: [{ userid: 'alice', name: 'Alice', dept_id_list: [1] }],
    });
    await expect(api.listUserIds(7)).resolves.toEqual(['alice', '0042']);
    const requests = fake.seen.filter((s) => s.path !== '/gettoken').map((s) => [s.method, s.path, s.body]);
    expect(requests).toEqual([
      ['POST', '/topapi/v2/user/get', { userid: 'alice', language: 'zh_CN' }],
      ['POST', '/topapi/v2/department/get', { dept_id: 7 }],
      ['POST', '/topapi/v2/department/listsub', { dept_id: 7 }],
      ['POST', '/topapi/v2/user/list', { dept_id: 7, cursor: 0, size: 100 }],
      ['POST', '/topapi/user/listid', { dept_id: 7 }],
    ]);
  });

  it('keeps orders beyond 2^53 exact and user ids as strings', async () => {
    const fake = await fakeDingTalk({
      'topapi/v2/user/get': () => ({
        raw:
          '{"errcode":0,"errmsg":"ok","result":{"userid":"184919295227658120","name":"张三","manager_userid":"0123",' +
          '"mobile":"13800000000","active":true,"admin":false,"hired_date":1597573616828,' +
          '"dept_id_list":[581208264,1],"dept_order_list":[{"dept_id":581208264,"order":176543210987654321},' +
          '{"dept_id":1,"order":9007199254740993}],"leader_in_dept":[{"dept_id":581208264,"leader":true}]},"request_id":"x"}',
      }),
      'topapi/v2/department/get': () => ({
        raw: '{"errcode":0,"errmsg":"ok","result":{"dept_id":581208264,"name":"研发","parent_id":1,"order":176543210987654321}}',
      }),
    });
    const api = client(fake);
    await expect(api.getUser('184919295227658120')).resolves.toEqual({
      userid: '184919295227658120',
      name: '张三',
      manager_userid: '0123',
      mobile: '13800000000',
      active: true,
      admin: false,
      dept_id_list: [581208264, 1],
      dept_order_list: [
        { dept_id: 581208264, order: '176543210987654321' },
        { dept_id: 1, order: '9007199254740993' },
      ],
      leader_in_dept: [{ dept_id: 581208264, leader: true }],
    });
    expect((await api.getDept(581208264)).order).toBe('176543210987654321');
  });

  it('takes an answer without an errcode or without its documented result for a retryable protocol error', async () => {
    const fake = await fakeDingTalk({
      'topapi/v2/department/get': () => ({ raw: '{"result":{"dept_id":2,"name":"x","parent_id":1}}' }),
      'topapi/v2/user/get': () => ({ raw: '{"errcode":0,"errmsg":"ok"}' }),
      'topapi/v2/department/listsub': () => ({ raw: 'null' }),
    });
    const api = client(fake);
    for (const e of [await failure(api.getDept(2)), await failure(api.getUser('a')), await failure(api.listSubDepts(1))]) {
      expect(e).toMatchObject({ platform: 'dingtalk', errcode: ERRCODE_PROTOCOL, failure: 'retryable' });
      expect(e.errmsg).toMatch(/^answer not of the documented shape \(.+\): check any proxy in front of DINGTALK_API_BASE$/);
    }
  });

  it('refuses department ids beyond 2^53 rather than rounding them', async () => {
    const fake = await fakeDingTalk({
      'topapi/v2/department/get': () => ({ raw: '{"errcode":0,"result":{"dept_id":9007199254740993,"name":"x","parent_id":1}}' }),
    });
    const e = await failure(client(fake).getDept(1));
    expect(e).toMatchObject({ errcode: ERRCODE_BAD_ANSWER, failure: 'permanent' });
    expect(e.errmsg).toContain('9007199254740993');
  });
});

describe('DingTalkApi turns transport failures into retryable errors that leak no secret', () => {
  it('turns a timeout into retryable -1', async () => {
    const fake = await fakeDingTalk({ 'topapi/v2/user/get': () => 'hang' });
    // Long enough for the token fetched first to answer on a loaded machine; the hang still times out.
    const e = await failure(client(fake, { timeoutMs: 1000 }).getUser('alice'));
    expect(e).toMatchObject({ errcode: DINGTALK_ERR.systemBusy, failure: 'retryable', api: 'topapi/v2/user/get' });
    expect(e.errmsg).toContain('1000 ms');
  });

  it('turns a refused connection into retryable -1', async () => {
    const nowhere = new DingTalkApi({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: NOTHING_LISTENS, logger: createMemoryLogger() });
    const e = await failure(nowhere.getUser('alice'));
    expect(e).toMatchObject({ errcode: DINGTALK_ERR.systemBusy, failure: 'retryable', api: 'gettoken' });
  });

  it('turns HTTP 502 into a retryable error carrying the status', async () => {
    const fake = await fakeDingTalk({ 'topapi/v2/user/get': () => ({ status: 502, raw: '<html>Bad Gateway</html>' }) });
    expect(await failure(client(fake).getUser('alice'))).toMatchObject({ errcode: 502, failure: 'retryable' });
  });

  it('turns a non-JSON answer (the per-IP ban) into retryable -1', async () => {
    const fake = await fakeDingTalk({ 'topapi/v2/user/get': () => ({ raw: '<html>访问被拒绝</html>' }) });
    const e = await failure(client(fake).getUser('alice'));
    expect(e).toMatchObject({ errcode: DINGTALK_ERR.systemBusy, failure: 'retryable' });
    expect(e.errmsg).toMatch(/not JSON/);
  });

  it('never puts the access token or secret in errors or logs', async () => {
    const logger = createMemoryLogger();
    const fake = await fakeDingTalk({
      // A proxy or platform echoing the request line back in its message.
      'topapi/v2/user/get': (s) => ({
        json: { errcode: DINGTALK_ERR.invalidParam, errmsg: `bad request ${s.path}?access_token=${s.query.get('access_token') ?? ''}` },
      }),
      'topapi/v2/department/get': () => 'hang',
      'topapi/user/listid': () => ({ status: 503, raw: 'unavailable' }),
    });
    const api = client(fake, { timeoutMs: 1000, logger });
    const errors = [await failure(api.getUser('alice')), await failure(api.getDept(1)), await failure(api.listUserIds(1))];
    fake.gettoken = (s) => ({ json: { errcode: DINGTALK_ERR.badCredentials, errmsg: `invalid appsecret ${s.query.get('appsecret') ?? ''}` } });
    resetDingTalkTokenCache();
    errors.push(await failure(api.getUser('alice')));
    expect(errors.map((e) => e.errcode)).toEqual([DINGTALK_ERR.invalidParam, DINGTALK_ERR.systemBusy, 503, DINGTALK_ERR.badCredentials]);
    const text = JSON.stringify([errors.map((e) => [e.message, e.errmsg, e.stack]), logger.entries]);
    expect(text).not.toContain('tok-1');
    expect(text).not.toContain(APP_SECRET);
    expect(text).toContain('access_token=***');
  });
});

describe('DingTalkApi keeps every id of a failed push, whatever its data key', () => {
  it('normalises user and department records, whatever their data key', async () => {
    const fake = await fakeDingTalk({
      'call_back/get_call_back_failed_result': () => ({
        raw:
          '{"errcode":0,"errmsg":"ok","has_more":true,"failed_list":[' +
          '{"call_back_tag":"user_add_org","event_time":1640921671286,"user_add_org":{"userid":["184919295227658120","manager164"],"corpid":"dingcorp"}},' +
          '{"call_back_tag":"org_dept_create","event_time":1640669222083,"org_dept_create":{"deptid":[581208264,"7"],"corpid":"dingcorp"}},' +
          '{"call_back_tag":"user_leave_org","event_time":"1640921671999","data":{"UserId":"2169122037-1513149549","CorpId":"dingcorp"}},' +
          '{"call_back_tag":"org_dept_remove","event_time":1,"payload":"{\\"deptId\\":[12345678901234567890],\\"corpid\\":\\"dingcorp\\"}"},' +
          '{"call_back_tag":"check_url","event_time":2}' +
          ']}',
      }),
    });
    const page = await client(fake).getFailedPushes();
    expect(fake.seen.at(-1)?.method).toBe('GET');
    expect(page).toEqual({
      hasMore: true,
      failed: [
        { eventType: 'user_add_org', eventTime: 1640921671286, corpId: 'dingcorp', userIds: ['184919295227658120', 'manager164'], deptIds: [] },
        { eventType: 'org_dept_create', eventTime: 1640669222083, corpId: 'dingcorp', userIds: [], deptIds: ['581208264', '7'] },
        { eventType: 'user_leave_org', eventTime: 1640921671999, corpId: 'dingcorp', userIds: ['2169122037-1513149549'], deptIds: [] },
        // Kept exact even beyond 2^53: DingTalk will not list this record again.
        { eventType: 'org_dept_remove', eventTime: 1, corpId: 'dingcorp', userIds: [], deptIds: ['12345678901234567890'] },
        { eventType: 'check_url', eventTime: 2, corpId: '', userIds: [], deptIds: [] },
      ],
    });
  });

  it('answers an empty page when nothing failed', async () => {
    const fake = await fakeDingTalk({
      'call_back/get_call_back_failed_result': () => ({ json: { errcode: 0, errmsg: 'ok', has_more: false, failed_list: [] } }),
    });
    await expect(client(fake).getFailedPushes()).resolves.toEqual({ hasMore: false, failed: [] });
  });
});

describe('DingTalkApi takes the API origin as its base', () => {
  it.each(['', '/'])('works against the simulator with base <origin>%s', async (suffix) => {
    const sim = new DingTalkSimulator({ appKey: APP_KEY, appSecret: APP_SECRET });
    const origin = await sim.start();
    try {
      const api = new DingTalkApi({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: `${origin}${suffix}`, logger: createMemoryLogger() });
      await expect(api.getDept(DINGTALK_ROOT_DEPT_ID)).resolves.toMatchObject({ dept_id: DINGTALK_ROOT_DEPT_ID });
    } finally {
      await sim.stop();
    }
  });
});
