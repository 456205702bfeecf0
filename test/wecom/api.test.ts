import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERRCODE_PROTOCOL } from '../../lib/errors';
import { createMemoryLogger } from '../../lib/log';
import { WeComSimulator } from '../../lib/sandbox/wecom-sim';
import { WECOM_ROOT_DEPT_ID } from '../../lib/sync/mapping';
import { LIST_ID_LIMIT, resetWeComTokenCache, WeComApi } from '../../lib/wecom/api';
import { callerIpFrom60020, WECOM_ERR } from '../../lib/wecom/errors';
import { type FakePlatform, failure, fakeClock, fakeWeComOptions, type Route, startFakePlatform, stopFakePlatforms } from '../support/fake-platform';

const CORP_ID = 'ww0123456789abcdef';
const SECRET = 'contact-sync-SECRET-value';

type FakeWeCom = FakePlatform;

/** WeCom's API under /cgi-bin, as far as the client tests need it. */
function fakeWeCom(routes: Record<string, Route> = {}): Promise<FakeWeCom> {
  return startFakePlatform(fakeWeComOptions(CORP_ID, SECRET), routes);
}

function client(fake: FakeWeCom, extra: Partial<ConstructorParameters<typeof WeComApi>[0]> = {}) {
  return new WeComApi({ corpId: CORP_ID, secret: SECRET, baseUrl: fake.baseUrl, logger: createMemoryLogger(), ...extra });
}

const err =
  (errcode: number, errmsg: string): Route =>
  () => ({ json: { errcode, errmsg } });
const alice = { userid: 'alice', name: 'Alice', department: [2], mobile: '+86 13800000000' };

beforeEach(() => resetWeComTokenCache());
afterEach(stopFakePlatforms);

describe('WeComApi fetches one access token per secret, shares it and replaces it once when rejected', () => {
  it('fetches one token and reuses it across calls and instances', async () => {
    const fake = await fakeWeCom();
    const a = client(fake);
    await a.updateUser({ userid: 'alice', name: 'A' });
    await a.updateUser({ userid: 'alice', name: 'B' });
    await client(fake).updateUser({ userid: 'alice', name: 'C' });
    expect(fake.count('gettoken')).toBe(1);
    expect(fake.seen.filter((s) => !s.path.endsWith('gettoken')).map((s) => s.query.get('access_token'))).toEqual(['wx-tok-1', 'wx-tok-1', 'wx-tok-1']);
    expect(a.calls).toEqual({ gettoken: 1, 'user/update': 2 });
  });

  it('keeps tokens of different secrets apart', async () => {
    const fake = await fakeWeCom();
    await client(fake).deleteUser('alice');
    const other = client(fake, { secret: 'another-secret' });
    expect(await failure(other.deleteUser('alice'))).toMatchObject({ api: 'gettoken', errcode: WECOM_ERR.badSecret });
    expect(fake.count('gettoken')).toBe(2);
  });

  it('shares one gettoken among concurrent callers', async () => {
    const fake = await fakeWeCom();
    const api = client(fake);
    await Promise.all([api.deleteUser('a'), api.deleteUser('b'), client(fake).deleteUser('c')]);
    expect(fake.count('gettoken')).toBe(1);
  });

  it('refreshes the token before it expires, not long before', async () => {
    const fake = await fakeWeCom();
    const clock = fakeClock();
    const api = client(fake, { clock });
    await api.deleteUser('alice');
    clock.t += 60 * 60_000;
    await api.deleteUser('alice');
    expect(fake.count('gettoken')).toBe(1);
    clock.t += 56 * 60_000; // 4 min before the 2 h expiry
    await api.deleteUser('alice');
    expect(fake.count('gettoken')).toBe(2);
    expect(fake.seen.at(-1)?.query.get('access_token')).toBe('wx-tok-2');
  });

  it('keeps using a still-valid token when an early refresh fails for a passing reason', async () => {
    const fake = await fakeWeCom();
    const clock = fakeClock();
    const api = client(fake, { clock });
    await api.deleteUser('alice');
    clock.t += 116 * 60_000; // inside the refresh margin, not yet expired
    fake.gettoken = () => ({ json: { errcode: WECOM_ERR.systemBusy, errmsg: 'system busy' } });
    await api.deleteUser('alice');
    expect(fake.seen.at(-1)?.query.get('access_token')).toBe('wx-tok-1');
    clock.t += 5 * 60_000; // now expired: the failure shows
    expect(await failure(api.deleteUser('alice'))).toMatchObject({ api: 'gettoken', errcode: WECOM_ERR.systemBusy, failure: 'retryable' });
  });

  it('on 40014 fetches a new token once and retries the call once', async () => {
    const fake = await fakeWeCom();
    const api = client(fake);
    await api.deleteUser('alice');
    fake.valid.clear(); // WeCom expired wx-tok-1 early
    await api.updateUser({ userid: 'alice', name: 'Alice' });
    expect(fake.seen.map((s) => `${s.path.replace('/cgi-bin/', '')} ${s.query.get('access_token') ?? ''}`)).toEqual([
      'gettoken ',
      'user/delete wx-tok-1',
      'user/update wx-tok-1',
      'gettoken ',
      'user/update wx-tok-2',
    ]);
  });

  it('throws when the fresh token is rejected too, without looping', async () => {
    const fake = await fakeWeCom({ 'user/update': err(WECOM_ERR.expiredToken, 'access_token expired') });
    const e = await failure(client(fake).updateUser({ userid: 'alice', name: 'A' }));
    expect(e).toMatchObject({ platform: 'wecom', api: 'user/update', errcode: WECOM_ERR.expiredToken, failure: 'retryable' });
    expect(fake.count('gettoken')).toBe(2);
    expect(fake.count('user/update')).toBe(2);
  });

  it('reports a wrong secret (40001) as a configuration error, once', async () => {
    const fake = await fakeWeCom();
    const logger = createMemoryLogger();
    const api = client(fake, { secret: 'wrong', logger });
    const e = await failure(api.createUser(alice));
    expect(e).toMatchObject({ api: 'gettoken', errcode: WECOM_ERR.badSecret, failure: 'configuration' });
    expect(await failure(api.createUser(alice))).toMatchObject({ errcode: WECOM_ERR.badSecret });
    // Repeated wrong secrets get the IP banned: the second call must not ask again.
    expect(fake.count('gettoken')).toBe(1);
    expect(fake.count('user/create')).toBe(0);
    expect(logger.entries.find((l) => l.level === 'error')?.fix).toMatch(/WECOM_CONTACT_SECRET/);
  });
});

describe('WeComApi sends the documented requests, checks every errcode and treats deletes as idempotent', () => {
  it('sends the documented requests and reads the answers', async () => {
    const fake = await fakeWeCom({
      'department/create': () => ({ json: { errcode: 0, errmsg: 'created', id: 42 } }),
      'department/simplelist': (s) => ({
        json: {
          errcode: 0,
          errmsg: 'ok',
          department_id: s.query.has('id')
            ? [{ id: 42, parentid: 1, order: 10 }]
            : [
                { id: 1, parentid: 0, order: 100000000 },
                { id: 42, parentid: 1, order: 10 },
              ],
        },
      }),
    });
    const api = client(fake);
    await expect(api.createDept({ name: '研发', parentid: 1 })).resolves.toBe(42);
    await api.updateDept({ id: 42, name: '研发部' });
    await api.deleteDept(42);
    await expect(api.listDepts()).resolves.toEqual([
      { id: 1, parentid: 0, order: 100000000 },
      { id: 42, parentid: 1, order: 10 },
    ]);
    await expect(api.listDepts(42)).resolves.toEqual([{ id: 42, parentid: 1, order: 10 }]);
    await api.createUser(alice);
    await api.createUser({ ...alice, userid: 'bob', to_invite: true });
    await api.updateUser({ userid: 'alice', enable: 0, to_invite: true });
    await api.deleteUser('a.b@c');

    const requests = fake.seen
      .filter((s) => !s.path.endsWith('gettoken'))
      .map((s) => {
        const q = new URLSearchParams(s.query);
        q.delete('access_token');
        return [s.method, s.path.replace('/cgi-bin/', ''), q.toString(), s.body];
      });
    expect(requests).toEqual([
      ['POST', 'department/create', '', { name: '研发', parentid: 1 }],
      ['POST', 'department/update', '', { id: 42, name: '研发部' }],
      ['GET', 'department/delete', 'id=42', undefined],
      ['GET', 'department/simplelist', '', undefined],
      ['GET', 'department/simplelist', 'id=42', undefined],
      // to_invite is always explicit: WeCom's default would send an invitation.
      ['POST', 'user/create', '', { ...alice, to_invite: false }],
      ['POST', 'user/create', '', { ...alice, userid: 'bob', to_invite: true }],
      ['POST', 'user/update', '', { userid: 'alice', enable: 0 }],
      ['GET', 'user/delete', 'userid=a.b%40c', undefined],
    ]);
    expect(api.calls).toEqual({
      gettoken: 1,
      'department/create': 1,
      'department/update': 1,
      'department/delete': 1,
      'department/simplelist': 2,
      'user/create': 2,
      'user/update': 1,
      'user/delete': 1,
    });
  });

  it('checks the errcode of every call and names the API', async () => {
    const fake = await fakeWeCom({
      'department/create': err(WECOM_ERR.deptExists, 'department existed'),
      'department/update': err(WECOM_ERR.deptCircular, 'department circular'),
      'department/delete': err(WECOM_ERR.deptHasMembers, 'department contains user'),
      'department/simplelist': err(WECOM_ERR.detailReadForbidden, 'api forbidden for contact sync'),
      'user/create': err(WECOM_ERR.mobileExists, 'mobile existed'),
      'user/update': err(WECOM_ERR.badName, 'invalid username'),
      'user/delete': err(WECOM_ERR.rateLimited, 'api freq out of limit'),
      'user/list_id': err(WECOM_ERR.noPrivilege, 'no privilege to access/modify contact'),
    });
    // The throttle as the client first sees it: waiting it out is tested in test/platform-http-throttle.test.ts.
    const api = client(fake, { throttleDelaysMs: [] });
    const outcomes = [
      await failure(api.createDept({ name: 'x', parentid: 1 })),
      await failure(api.updateDept({ id: 2, parentid: 3 })),
      await failure(api.deleteDept(2)),
      await failure(api.listDepts()),
      await failure(api.createUser(alice)),
      await failure(api.updateUser({ userid: 'alice', name: '?' })),
      await failure(api.deleteUser('alice')),
      await failure(api.listUserDepts()),
    ].map((e) => [e.platform, e.api, e.errcode, e.failure]);
    expect(outcomes).toEqual([
      ['wecom', 'department/create', WECOM_ERR.deptExists, 'permanent'],
      ['wecom', 'department/update', WECOM_ERR.deptCircular, 'permanent'],
      ['wecom', 'department/delete', WECOM_ERR.deptHasMembers, 'permanent'],
      ['wecom', 'department/simplelist', WECOM_ERR.detailReadForbidden, 'configuration'],
      ['wecom', 'user/create', WECOM_ERR.mobileExists, 'permanent'],
      ['wecom', 'user/update', WECOM_ERR.badName, 'permanent'],
      ['wecom', 'user/delete', WECOM_ERR.rateLimited, 'retryable'],
      ['wecom', 'user/list_id', WECOM_ERR.noPrivilege, 'configuration'],
    ]);
  });

  it('treats deleting what is already gone as success', async () => {
    let userGone: number = WECOM_ERR.useridNotFound;
    const fake = await fakeWeCom({
      'department/delete': err(WECOM_ERR.deptNotFound, 'department not found'),
      'user/delete': () => ({ json: { errcode: userGone, errmsg: 'userid not found' } }),
    });
    const api = client(fake);
    await expect(api.deleteDept(9)).resolves.toBeUndefined();
    await expect(api.deleteUser('gone')).resolves.toBeUndefined();
    userGone = WECOM_ERR.userNotFound;
    await expect(api.deleteUser('gone')).resolves.toBeUndefined();
    // …but a missing department is still an error where it is not a delete.
    fake.routes['department/update'] = err(WECOM_ERR.deptNotFound, 'department not found');
    expect(await failure(api.updateDept({ id: 9, name: 'x' }))).toMatchObject({ errcode: WECOM_ERR.deptNotFound });
  });

  it('surfaces the caller IP of 60020 with the full errmsg', async () => {
    const errmsg =
      'not allow to access from your ip, hint: [1700000000_9_xyz], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=60020';
    const logger = createMemoryLogger();
    const fake = await fakeWeCom({ 'user/create': err(WECOM_ERR.untrustedIp, errmsg) });
    const e = await failure(client(fake, { logger }).createUser(alice));
    expect(e).toMatchObject({ errcode: WECOM_ERR.untrustedIp, failure: 'configuration', errmsg });
    expect(callerIpFrom60020(e.errmsg)).toBe('203.0.113.7');
    expect(logger.entries.find((l) => l.level === 'error')?.fix).toContain('203.0.113.7');
  });

  it('pages user/list_id until next_cursor is empty', async () => {
    const pages: Record<string, { next_cursor: string; dept_user: { userid: string; department: number }[] }> = {
      '': {
        next_cursor: 'c1',
        dept_user: [
          { userid: 'a', department: 1 },
          { userid: 'a', department: 2 },
        ],
      },
      c1: { next_cursor: 'c2', dept_user: [{ userid: 'b', department: 2 }] },
      c2: { next_cursor: '', dept_user: [{ userid: '007', department: 3 }] },
    };
    const fake = await fakeWeCom({
      'user/list_id': (s) => {
        const page = pages[String(s.body?.cursor ?? '')];
        return page ? { json: { errcode: 0, errmsg: 'ok', ...page } } : { json: { errcode: WECOM_ERR.invalidParam, errmsg: 'bad cursor' } };
      },
    });
    const api = client(fake);
    await expect(api.listUserDepts()).resolves.toEqual([
      { userid: 'a', department: 1 },
      { userid: 'a', department: 2 },
      { userid: 'b', department: 2 },
      { userid: '007', department: 3 },
    ]);
    expect(fake.seen.filter((s) => s.path.endsWith('user/list_id')).map((s) => [s.method, s.body])).toEqual([
      ['POST', { limit: LIST_ID_LIMIT }],
      ['POST', { cursor: 'c1', limit: LIST_ID_LIMIT }],
      ['POST', { cursor: 'c2', limit: LIST_ID_LIMIT }],
    ]);
    expect(api.calls['user/list_id']).toBe(3);
  });

  it('stops paging when WeCom repeats a cursor', async () => {
    const fake = await fakeWeCom({
      'user/list_id': () => ({ json: { errcode: 0, errmsg: 'ok', next_cursor: 'same', dept_user: [] } }),
    });
    const e = await failure(client(fake).listUserDepts());
    expect(e).toMatchObject({ api: 'user/list_id', errcode: ERRCODE_PROTOCOL, failure: 'retryable' });
    expect(fake.count('user/list_id')).toBe(2);
  });
});

describe('WeComApi counts only answers of the documented shape', () => {
  const protocol = (api: string) => ({ platform: 'wecom', api, errcode: ERRCODE_PROTOCOL, failure: 'retryable' });

  it.each([['{}'], ['{"errmsg":"ok"}'], ['null'], ['[]']])('user/create answered %s is a retryable protocol error, not a success', async (raw) => {
    const fake = await fakeWeCom({ 'user/create': () => ({ raw }) });
    expect(await failure(client(fake).createUser(alice))).toMatchObject(protocol('user/create'));
  });

  it('department/create: the answered id; the requested one when the answer has none; otherwise a protocol error', async () => {
    let answer: Record<string, unknown> = { errcode: 0, errmsg: 'created', id: 42 };
    const fake = await fakeWeCom({ 'department/create': () => ({ json: answer }) });
    const api = client(fake);
    await expect(api.createDept({ name: 'a', parentid: 1 })).resolves.toBe(42);
    answer = { errcode: 0, errmsg: 'created' };
    await expect(api.createDept({ name: 'a', parentid: 1, id: 7 })).resolves.toBe(7);
    // WeCom chose the id and the answer lost it: the department may exist, so the retry must find it.
    const e = await failure(api.createDept({ name: 'a', parentid: 1 }));
    expect(e).toMatchObject(protocol('department/create'));
    expect(e.errmsg).toBe('answer not of the documented shape (no department id): check any proxy in front of WECOM_API_BASE');
    answer = { errcode: 0, errmsg: 'created', id: '42' };
    expect(await failure(api.createDept({ name: 'a', parentid: 1 }))).toMatchObject(protocol('department/create'));
  });

  it('an id list without its array is a protocol error, never an empty WeCom', async () => {
    const fake = await fakeWeCom({
      'department/simplelist': () => ({ json: { errcode: 0, errmsg: 'ok' } }),
      'user/list_id': () => ({ json: { errcode: 0, errmsg: 'ok', next_cursor: '' } }),
    });
    const api = client(fake);
    expect(await failure(api.listDepts())).toMatchObject(protocol('department/simplelist'));
    expect(await failure(api.listUserDepts())).toMatchObject(protocol('user/list_id'));
    fake.routes['department/simplelist'] = () => ({ json: { errcode: 0, errmsg: 'ok', department_id: [{ id: 'x', parentid: 1 }] } });
    expect(await failure(api.listDepts())).toMatchObject(protocol('department/simplelist'));
  });
});

describe('WeComApi turns transport failures into retryable errors that leak no secret', () => {
  it('turns a timeout into retryable -1', async () => {
    const fake = await fakeWeCom({ 'user/create': () => 'hang' });
    const e = await failure(client(fake, { timeoutMs: 1000 }).createUser(alice));
    expect(e).toMatchObject({ api: 'user/create', errcode: WECOM_ERR.systemBusy, failure: 'retryable' });
  });

  it('turns HTTP 502 into a retryable error carrying the status', async () => {
    const fake = await fakeWeCom({ 'user/create': () => ({ status: 502, raw: 'Bad Gateway' }) });
    expect(await failure(client(fake).createUser(alice))).toMatchObject({ errcode: 502, failure: 'retryable' });
  });

  it('turns a non-JSON answer into retryable -1', async () => {
    const fake = await fakeWeCom({ 'user/create': () => ({ raw: '<html>busy</html>' }) });
    expect(await failure(client(fake).createUser(alice))).toMatchObject({ errcode: WECOM_ERR.systemBusy, failure: 'retryable' });
  });

  it('never puts the access token or secret in errors or logs', async () => {
    const logger = createMemoryLogger();
    const fake = await fakeWeCom({
      'user/create': (s) => ({
        json: { errcode: WECOM_ERR.invalidUserid, errmsg: `invalid userid, url ${s.path}?access_token=${s.query.get('access_token') ?? ''}` },
      }),
      'user/update': () => 'hang',
      'user/delete': () => ({ status: 504, raw: 'timeout' }),
      'user/list_id': (s) => ({ json: { errcode: WECOM_ERR.untrustedIp, errmsg: `from ip: 198.51.100.1 token ${s.query.get('access_token') ?? ''}` } }),
    });
    const api = client(fake, { timeoutMs: 1000, logger });
    const errors = [
      await failure(api.createUser(alice)),
      await failure(api.updateUser({ userid: 'alice', name: 'A' })),
      await failure(api.deleteUser('alice')),
      await failure(api.listUserDepts()),
    ];
    fake.gettoken = (s) => ({ json: { errcode: WECOM_ERR.badSecret, errmsg: `invalid corpsecret ${s.query.get('corpsecret') ?? ''}` } });
    resetWeComTokenCache();
    errors.push(await failure(api.deleteUser('alice')));
    expect(errors.map((e) => e.errcode)).toEqual([WECOM_ERR.invalidUserid, WECOM_ERR.systemBusy, 504, WECOM_ERR.untrustedIp, WECOM_ERR.badSecret]);
    const text = JSON.stringify([errors.map((e) => [e.message, e.errmsg, e.stack]), logger.entries]);
    expect(text).not.toContain('wx-tok-1');
    expect(text).not.toContain(SECRET);
    expect(text).toContain('access_token=***');
  });
});

describe('WeComApi takes the API origin as its base and adds /cgi-bin/ itself', () => {
  it.each(['', '/', '/cgi-bin', '/cgi-bin/'])('works against the simulator with base <origin>%s', async (suffix) => {
    const sim = new WeComSimulator({ corpId: CORP_ID, contactSecret: SECRET });
    const origin = await sim.start();
    try {
      expect(new URL(origin).pathname).toBe('/');
      const api = new WeComApi({ corpId: CORP_ID, secret: SECRET, baseUrl: `${origin}${suffix}`, logger: createMemoryLogger() });
      const id = await api.createDept({ name: '研发', parentid: WECOM_ROOT_DEPT_ID });
      await expect(api.listDepts(id)).resolves.toEqual([{ id, parentid: WECOM_ROOT_DEPT_ID, order: expect.any(Number) }]);
    } finally {
      await sim.stop();
    }
  });
});
