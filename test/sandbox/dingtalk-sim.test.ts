/**
 * The DingTalk simulator over real HTTP: every documented rule it claims to model, its pushes
 * (checked by independent receivers built on lib/dingtalk/crypto), and its test controls.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLosslessNumber, parse } from 'lossless-json';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildReply, decodeAesKey, decryptMessage, randomNonce, verifySignature } from '../../lib/dingtalk/crypto';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { DingTalkSimulator, type DingTalkSimulatorOptions, generateOrg } from '../../lib/sandbox/dingtalk-sim';

const T0 = 1_700_000_000_000;
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const TOKEN = 'sandboxtoken';
const BIG_ORDER = '176543210987654321'; // > 2^53: JSON.parse would round it

/** A clock the test moves by hand, so token expiry and rate windows are deterministic. */
function manualClock(start = T0) {
  return {
    t: start,
    now() {
      return this.t;
    },
  };
}

let sim: DingTalkSimulator;
let base: string;
const servers: Server[] = [];

async function startSim(opts: DingTalkSimulatorOptions = {}): Promise<void> {
  sim = new DingTalkSimulator(opts);
  base = await sim.start();
}

afterEach(async () => {
  await sim?.stop();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

async function get(path: string, query: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${base}/${path}?${new URLSearchParams(query)}`);
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

async function post(path: string, body: unknown, token?: string): Promise<Answer> {
  const qs = token === undefined ? '' : `?access_token=${encodeURIComponent(token)}`;
  const res = await fetch(`${base}/${path}${qs}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

async function token(): Promise<string> {
  const a = await get('gettoken', { appkey: sim.appKey, appsecret: sim.appSecret });
  expect(a.json.errcode).toBe(0);
  return a.json.access_token as string;
}

function result(a: Answer): Record<string, unknown> {
  expect(a.json.errcode, a.text).toBe(0);
  return a.json.result as Record<string, unknown>;
}

/** A callback receiver; `reply` decides the answer to each decrypted event. */
async function receiver(reply: (event: Record<string, unknown>, attempt: number) => 'good' | 'wrong-owner' | 'plain' | 500) {
  const key = decodeAesKey(AES_KEY);
  const events: Record<string, unknown>[] = [];
  const queries: URLSearchParams[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    queries.push(q);
    const encrypt = (JSON.parse(raw) as { encrypt: string }).encrypt;
    // Independent verification with the project's crypto, exactly as the real callback does.
    if (!verifySignature(TOKEN, q.get('timestamp')!, q.get('nonce')!, encrypt, q.get('msg_signature')!)) {
      res.writeHead(403).end('bad signature');
      return;
    }
    const event = JSON.parse(decryptMessage(encrypt, key, sim.appKey)) as Record<string, unknown>;
    events.push(event);
    const how = reply(event, events.length);
    if (how === 500) {
      res.writeHead(500).end('boom');
      return;
    }
    if (how === 'plain') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: 'success' }));
      return;
    }
    const body = buildReply('success', {
      token: TOKEN,
      key,
      ownerKey: how === 'wrong-owner' ? 'someone-else' : sim.appKey,
      timeStamp: String(Date.now()),
      nonce: randomNonce(16),
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dingtalk/callback`;
  return { url, events, queries };
}

describe('gettoken and access tokens', () => {
  it('returns the same token while it is valid, a new one after it expired', async () => {
    const clock = manualClock();
    await startSim({ clock, tokenTtlSeconds: 7200 });
    const first = await get('gettoken', { appkey: sim.appKey, appsecret: sim.appSecret });
    expect(first.json).toMatchObject({ errcode: 0, expires_in: 7200 });
    expect(typeof first.json.request_id).toBe('string');
    clock.t += 1000_000;
    const again = await get('gettoken', { appkey: sim.appKey, appsecret: sim.appSecret });
    expect(again.json.access_token).toBe(first.json.access_token);
    expect(again.json.expires_in).toBe(7200 - 1000);

    clock.t = T0 + 7200_000;
    const stale = await post('topapi/v2/user/get', { userid: 'x' }, first.json.access_token as string);
    expect(stale.json.errcode).toBe(DINGTALK_ERR.expiredToken);
    const fresh = await token();
    expect(fresh).not.toBe(first.json.access_token);
    // The old token stays "expired" (42001), not "invalid" (40014), after the new one is issued.
    expect((await post('topapi/v2/user/get', { userid: 'x' }, first.json.access_token as string)).json.errcode).toBe(42001);
  });

  it('refuses wrong credentials with 40089', async () => {
    await startSim();
    expect((await get('gettoken', { appkey: sim.appKey, appsecret: 'nope' })).json.errcode).toBe(DINGTALK_ERR.badCredentials);
    expect((await get('gettoken', { appkey: 'other', appsecret: sim.appSecret })).json.errcode).toBe(40089);
  });

  it('answers 40014 without or with an unknown token and 42001 after expireTokens()', async () => {
    await startSim();
    expect((await post('topapi/v2/department/get', { dept_id: 1 })).json.errcode).toBe(DINGTALK_ERR.invalidToken);
    expect((await post('topapi/v2/department/get', { dept_id: 1 }, 'made-up')).json.errcode).toBe(40014);
    const t = await token();
    expect((await post('topapi/v2/department/get', { dept_id: 1 }, t)).json.errcode).toBe(0);
    sim.expireTokens();
    expect((await post('topapi/v2/department/get', { dept_id: 1 }, t)).json.errcode).toBe(42001);
    expect((await post('topapi/v2/department/get', { dept_id: 1 }, await token())).json.errcode).toBe(0);
  });

  it('answers every request HTTP 200 JSON with errcode, errmsg and request_id, and 43002 for a GET of a POST API', async () => {
    await startSim();
    const res = await fetch(`${base}/topapi/v2/user/get?access_token=${await token()}`);
    expect(res.status).toBe(200);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ errcode: DINGTALK_ERR.requirePost });
    expect(typeof json.errmsg).toBe('string');
    expect(typeof json.request_id).toBe('string');
  });
});

describe('users and departments', () => {
  let t: string;
  beforeEach(async () => {
    await startSim();
    t = await token();
    sim.seed({
      depts: [
        { dept_id: 200, name: '研发部', parent_id: 1, order: BIG_ORDER },
        { dept_id: 300, name: '前端组', parent_id: 200, order: 5 },
        { dept_id: 201, name: '市场部', parent_id: 1 },
      ],
      users: [
        {
          userid: '0123456789012345678',
          name: '张三',
          mobile: '13800000001',
          state_code: '86',
          email: 'zhang@example.com',
          title: '工程师',
          manager_userid: 'manager164',
          dept_id_list: [200, 300],
          dept_order_list: [
            { dept_id: 200, order: BIG_ORDER },
            { dept_id: 300, order: 7 },
          ],
          leader_in_dept: [{ dept_id: 200, leader: true }],
        },
        { userid: 'manager164', name: '李四', mobile: '13800000002', dept_id_list: [201] },
      ],
    });
  });

  it('user/get returns the documented fields and writes a big order as a raw integer', async () => {
    const a = await post('topapi/v2/user/get', { userid: '0123456789012345678', language: 'zh_CN' }, t);
    const r = result(a);
    expect(r).toMatchObject({
      userid: '0123456789012345678',
      name: '张三',
      mobile: '13800000001',
      state_code: '86',
      email: 'zhang@example.com',
      title: '工程师',
      manager_userid: 'manager164',
      active: true,
      admin: false,
      boss: false,
      dept_id_list: [200, 300],
      leader_in_dept: [
        { dept_id: 200, leader: true },
        { dept_id: 300, leader: false },
      ],
    });
    expect(typeof r.unionid).toBe('string');
    // Raw in the text, exactly as DingTalk sends it; only a lossless parse keeps every digit.
    expect(a.text).toContain(`"order":${BIG_ORDER}`);
    expect(a.text).not.toContain(`"order":"${BIG_ORDER}"`);
    const lossless = parse(a.text) as { result: { dept_order_list: { order: unknown }[] } };
    const order = lossless.result.dept_order_list[0]!.order;
    expect(isLosslessNumber(order) && order.toString()).toBe(BIG_ORDER);
  });

  it('user/get answers 60121 for a missing user, 33012 when configured so, 50002 out of scope', async () => {
    expect((await post('topapi/v2/user/get', { userid: 'ghost' }, t)).json.errcode).toBe(DINGTALK_ERR.userNotFound);
    sim.userNotFoundErrcode = 33012;
    expect((await post('topapi/v2/user/get', { userid: 'ghost' }, t)).json.errcode).toBe(33012);
    sim.setOutOfScope('manager164', true, { push: false });
    expect((await post('topapi/v2/user/get', { userid: 'manager164' }, t)).json.errcode).toBe(DINGTALK_ERR.userOutOfScope);
    expect(result(await post('topapi/user/listid', { dept_id: 201 }, t))).toEqual({ userid_list: [] });
  });

  it('withheld fields are absent, as without the permission', async () => {
    sim.withheldFields = ['mobile', 'state_code'];
    const r = result(await post('topapi/v2/user/get', { userid: 'manager164' }, t));
    expect(r).not.toHaveProperty('mobile');
    expect(r).not.toHaveProperty('state_code');
    expect(r.name).toBe('李四');
  });

  it('department/get returns id, name, parent, raw order and managers; 60003 missing; 50004 out of scope', async () => {
    const a = await post('topapi/v2/department/get', { dept_id: 200 }, t);
    expect(result(a)).toMatchObject({ dept_id: 200, name: '研发部', parent_id: 1, dept_manager_userid_list: ['0123456789012345678'] });
    expect(a.text).toContain(`"order":${BIG_ORDER}`);
    const root = result(await post('topapi/v2/department/get', { dept_id: 1 }, t));
    expect(root).not.toHaveProperty('parent_id');
    expect((await post('topapi/v2/department/get', { dept_id: 999 }, t)).json.errcode).toBe(DINGTALK_ERR.deptNotFound);
    sim.setDeptOutOfScope(201, true, { push: false });
    expect((await post('topapi/v2/department/get', { dept_id: 201 }, t)).json.errcode).toBe(DINGTALK_ERR.deptOutOfScope);
    expect(result(await post('topapi/v2/department/listsubid', { dept_id: 1 }, t))).toEqual({ dept_id_list: [200] });
  });

  it('listsub and listsubid list direct children only', async () => {
    const subs = (await post('topapi/v2/department/listsub', { dept_id: 1 }, t)).json.result;
    expect(subs).toEqual([
      { dept_id: 200, name: '研发部', parent_id: 1 },
      { dept_id: 201, name: '市场部', parent_id: 1 },
    ]);
    expect(result(await post('topapi/v2/department/listsubid', { dept_id: 200 }, t))).toEqual({ dept_id_list: [300] });
    expect((await post('topapi/v2/department/listsub', { dept_id: 404 }, t)).json.errcode).toBe(60003);
  });

  it('answers 40035 for a missing or malformed parameter', async () => {
    expect((await post('topapi/v2/user/get', {}, t)).json.errcode).toBe(DINGTALK_ERR.invalidParam);
    expect((await post('topapi/v2/department/get', { dept_id: 'abc' }, t)).json.errcode).toBe(40035);
  });
});

describe('user/list paging', () => {
  let t: string;
  beforeEach(async () => {
    await startSim();
    t = await token();
    const users = Array.from({ length: 250 }, (_, i) => ({
      userid: `u${i}`,
      name: `用户${i}`,
      mobile: `1380000${String(i).padStart(4, '0')}`,
      dept_id_list: [500],
    }));
    sim.seed({
      depts: [
        { dept_id: 500, name: '大部门', parent_id: 1 },
        { dept_id: 501, name: '子部门', parent_id: 500 },
      ],
      users,
    });
    sim.addUser({ userid: 'child-only', name: '子', dept_id_list: [501] }, { push: false });
  });

  async function page(cursor: number, size = 100) {
    return result(await post('topapi/v2/user/list', { dept_id: 500, cursor, size }, t)) as {
      has_more: boolean;
      next_cursor?: number;
      list: { userid: string }[];
    };
  }

  it('serves 250 direct members in 3 pages of full user objects, without the sub-department member', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor = 0;
    for (;;) {
      const p = await page(cursor);
      sizes.push(p.list.length);
      seen.push(...p.list.map((u) => u.userid));
      if (!p.has_more) {
        expect(p).not.toHaveProperty('next_cursor');
        break;
      }
      cursor = p.next_cursor!;
    }
    expect(sizes).toEqual([100, 100, 50]);
    expect(new Set(seen).size).toBe(250);
    expect(seen).not.toContain('child-only');
    expect(result(await post('topapi/user/listid', { dept_id: 500 }, t)).userid_list).toHaveLength(250);
  });

  it('rejects size above 100', async () => {
    expect((await post('topapi/v2/user/list', { dept_id: 500, cursor: 0, size: 101 }, t)).json.errcode).toBe(DINGTALK_ERR.invalidParam);
  });

  it('keeps its cursor when members leave between pages: nobody is skipped', async () => {
    const first = await page(0);
    for (const u of first.list.slice(0, 30)) sim.removeUser(u.userid, { push: false });
    const second = await page(first.next_cursor!);
    expect(second.list.map((u) => u.userid)).toEqual(Array.from({ length: 100 }, (_, i) => `u${100 + i}`));
    // Most members leave now (enough to compact the index): the cursor still lands right.
    for (let i = 30; i < 100; i++) sim.removeUser(`u${i}`, { push: false });
    for (let i = 200; i < 240; i++) sim.removeUser(`u${i}`, { push: false });
    const third = await page(second.next_cursor!);
    expect(third).toMatchObject({ has_more: false });
    expect(third.list.map((u) => u.userid)).toEqual(Array.from({ length: 10 }, (_, i) => `u${240 + i}`));
  });
});

describe('callback pushes', () => {
  it('HR actions push envelope-A events, signed and encrypted like DingTalk, and a good reply counts as delivered', async () => {
    await startSim({ retryDelaysMs: [] });
    const r = await receiver(() => 'good');
    sim.setCallback({ url: r.url, token: TOKEN, aesKey: AES_KEY });
    const dept = sim.addDept({ name: '新部门', parent_id: 1 });
    const user = sim.addUser({ userid: '184919295227658120', name: '王五', mobile: '13900000000', dept_id_list: [dept.dept_id] });
    await sim.idle();
    sim.updateUser(user.userid, { title: '经理' });
    await sim.idle();
    sim.updateDept(dept.dept_id, { name: '改名部门' });
    await sim.idle();
    sim.removeUser(user.userid);
    await sim.idle();
    const child = sim.addDept({ name: '子', parent_id: dept.dept_id }, { push: false });
    sim.removeDept(dept.dept_id);
    await sim.idle();

    expect(r.events.map((e) => e.EventType)).toEqual([
      'org_dept_create',
      'user_add_org',
      'user_modify_org',
      'org_dept_modify',
      'user_leave_org',
      'org_dept_remove',
    ]);
    expect(r.events[0]).toMatchObject({ CorpId: sim.corpId, DeptId: [dept.dept_id], OptStaffId: 'manager0001' });
    expect(r.events[1]).toMatchObject({ UserId: ['184919295227658120'] });
    expect(r.events[5]).toMatchObject({ DeptId: [dept.dept_id, child.dept_id] }); // a cascade is one event
    for (const e of r.events) expect(e.TimeStamp).toMatch(/^\d{13}$/);
    for (const q of r.queries) {
      expect(q.get('nonce')).toMatch(/^[A-Za-z0-9]{8}$/);
      expect(q.get('signature')).toBe(q.get('msg_signature'));
      expect(q.get('timestamp')).toMatch(/^\d{13}$/);
    }
    expect(sim.pushes.every((p) => p.delivered && p.attempts === 1)).toBe(true);
    expect(sim.failedBacklog).toBe(0);
  });

  it('pushes nothing when told not to (lost events), while the organisation still changes', async () => {
    await startSim({ retryDelaysMs: [] });
    const r = await receiver(() => 'good');
    sim.setCallback({ url: r.url, token: TOKEN, aesKey: AES_KEY });
    sim.addUser({ userid: 'quiet', name: '静', mobile: '13900000001', dept_id_list: [1] }, { push: false });
    sim.pushEnabled = false;
    sim.addUser({ userid: 'quiet2', name: '静二', mobile: '13900000002', dept_id_list: [1] });
    await sim.idle();
    expect(r.events).toEqual([]);
    expect(sim.getUser('quiet2')?.name).toBe('静二');
  });

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
    const closed = createServer();
    await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((res) => closed.close(res));
    sim.setCallback({ url: `http://127.0.0.1:${port}/cb`, token: TOKEN, aesKey: AES_KEY });
    const outcome = await sim.pushEvent('org_dept_remove', { deptIds: [5, 6] });
    expect(outcome.errors[0]).toMatch(/no answer/);
    const failed = await get('call_back/get_call_back_failed_result', { access_token: await token() });
    expect(failed.json.failed_list).toEqual([
      { call_back_tag: 'org_dept_remove', event_time: expect.any(Number), org_dept_remove: { deptid: [5, 6], corpid: sim.corpId } },
    ]);
  });
});

describe('get_call_back_failed_result', () => {
  it('serves at most 200 per call, and each call clears what the previous call returned', async () => {
    await startSim();
    for (let i = 0; i < 205; i++) sim.recordFailedPush('user_modify_org', { userIds: [`u${i}`] });
    const t = await token();
    type Rec = Record<string, unknown> & { call_back_tag: string };
    const ids = (a: Answer) => (a.json.failed_list as Rec[]).map((f) => (f[f.call_back_tag] as { userid: string[] }).userid[0]);

    const first = await get('call_back/get_call_back_failed_result', { access_token: t });
    expect(first.json.has_more).toBe(true);
    expect(ids(first)).toHaveLength(200);
    expect(ids(first)[0]).toBe('u0');
    expect(sim.failedBacklog).toBe(205); // nothing is forgotten until the next call

    sim.recordFailedPush('user_leave_org', { userIds: ['late'] });
    const second = await get('call_back/get_call_back_failed_result', { access_token: t });
    expect(ids(second)).toEqual(['u200', 'u201', 'u202', 'u203', 'u204', 'late']);
    expect(second.json.has_more).toBe(false);

    const third = await get('call_back/get_call_back_failed_result', { access_token: t });
    expect(third.json).toMatchObject({ errcode: 0, has_more: false, failed_list: [] });
  });
});

describe('rate limit and fault injection', () => {
  it('answers 90018 above the per-API limit per second, per API, until the next second', async () => {
    const clock = manualClock();
    await startSim({ clock, rateLimitPerSecond: 3 });
    const t = await token();
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await post('topapi/v2/department/get', { dept_id: 1 }, t)).json.errcode as number);
    expect(codes).toEqual([0, 0, 0, DINGTALK_ERR.rateLimited]);
    expect((await post('topapi/v2/department/listsub', { dept_id: 1 }, t)).json.errcode).toBe(0);
    clock.t += 1000;
    expect((await post('topapi/v2/department/get', { dept_id: 1 }, t)).json.errcode).toBe(0);
    sim.setRateLimit(undefined);
    for (let i = 0; i < 5; i++) expect((await post('topapi/v2/department/get', { dept_id: 1 }, t)).json.errcode).toBe(0);
  });

  it('failNext answers the errcode for the next calls only, then normal service resumes', async () => {
    await startSim();
    const t = await token();
    sim.failNext('topapi/v2/department/get', -1, 2);
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await post('topapi/v2/department/get', { dept_id: 1 }, t)).json.errcode as number);
    expect(codes).toEqual([-1, -1, 0]);
  });

  it('failNextHttp answers a non-JSON 5xx; dropNext closes the connection', async () => {
    await startSim();
    const t = await token();
    sim.failNextHttp('topapi/v2/department/get', 502);
    const res = await fetch(`${base}/topapi/v2/department/get?access_token=${t}`, { method: 'POST', body: '{"dept_id":1}' });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).not.toMatch(/json/);
    sim.dropNext('topapi/v2/department/get');
    await expect(fetch(`${base}/topapi/v2/department/get?access_token=${t}`, { method: 'POST', body: '{"dept_id":1}' })).rejects.toThrow();
  });

  it('delayMs holds answers back (a client timeout fires) and stop() still ends promptly', async () => {
    await startSim();
    const t = await token();
    sim.delayMs('topapi/v2/department/get', 60_000);
    const req = fetch(`${base}/topapi/v2/department/get?access_token=${t}`, {
      method: 'POST',
      body: '{"dept_id":1}',
      signal: AbortSignal.timeout(200),
    });
    await expect(req).rejects.toThrow();
    sim.delayMs('topapi/v2/department/get', 0);
    expect((await post('topapi/v2/department/get', { dept_id: 1 }, t)).json.errcode).toBe(0);
  });

  it('counts calls per API, failed ones included, and resets the counters', async () => {
    await startSim();
    const t = await token();
    await post('topapi/v2/user/get', { userid: 'nobody' }, t);
    await post('topapi/v2/user/get', { userid: 'nobody' }, t);
    expect(sim.calls).toEqual({ gettoken: 1, 'topapi/v2/user/get': 2 });
    sim.resetCalls();
    expect(sim.calls).toEqual({});
  });
});

describe('organisation seeding and generation', () => {
  it('seed accepts departments in any order and rejects orphans and users in missing departments', async () => {
    await startSim();
    sim.seed({
      depts: [
        { dept_id: 11, name: '孙', parent_id: 10 },
        { dept_id: 10, name: '子', parent_id: 1 },
      ],
    });
    expect(sim.getDept(11)?.parent_id).toBe(10);
    expect(() => sim.seed({ depts: [{ dept_id: 12, name: '孤', parent_id: 404 }] })).toThrow(/parent/);
    expect(() => sim.seed({ users: [{ userid: 'x', name: '某', dept_id_list: [404] }] })).toThrow(/404/);
  });

  it('updateUser moves a user between departments and keeps orders for the ones that remain', async () => {
    await startSim();
    const t = await token();
    sim.seed({
      depts: [
        { dept_id: 10, name: '甲', parent_id: 1 },
        { dept_id: 20, name: '乙', parent_id: 1 },
      ],
    });
    sim.addUser({ userid: 'mover', name: '动', dept_id_list: [10, 20], dept_order_list: [{ dept_id: 20, order: BIG_ORDER }] });
    sim.updateUser('mover', { dept_id_list: [20, 1] });
    expect(result(await post('topapi/user/listid', { dept_id: 10 }, t)).userid_list).toEqual([]);
    expect(result(await post('topapi/user/listid', { dept_id: 1 }, t)).userid_list).toEqual(['mover']);
    expect(sim.getUser('mover')?.dept_order_list?.find((o) => o.dept_id === 20)?.order).toBe(BIG_ORDER);
  });

  it('generateOrg is deterministic and produces a valid, varied 10,000-user organisation', async () => {
    const org = generateOrg({ users: 10_000, depts: 1_000, maxDepth: 6, seed: 7 });
    expect(generateOrg({ users: 10_000, depts: 1_000, maxDepth: 6, seed: 7 })).toEqual(org);
    expect(generateOrg({ users: 50, depts: 5, seed: 8 })).not.toEqual(generateOrg({ users: 50, depts: 5, seed: 7 }));

    expect(org.depts).toHaveLength(1_000);
    expect(org.users).toHaveLength(10_000);
    const depth = new Map<number, number>([[1, 1]]);
    const siblingNames = new Set<string>();
    for (const d of org.depts) {
      expect(depth.has(d.parent_id!), 'parents come first').toBe(true);
      depth.set(d.dept_id, depth.get(d.parent_id!)! + 1);
      expect(depth.get(d.dept_id)).toBeLessThanOrEqual(6);
      const key = `${d.parent_id}/${d.name}`;
      expect(siblingNames.has(key)).toBe(false);
      siblingNames.add(key);
      expect(d.name).not.toMatch(/[\\:*?"<>|]/);
    }
    expect(new Set(org.users.map((u) => u.userid.toLowerCase())).size).toBe(10_000);
    expect(new Set(org.users.map((u) => u.mobile)).size).toBe(10_000);
    expect(org.users.every((u) => /^[\u4e00-\u9fff]{2,3}$/.test(u.name))).toBe(true);
    expect(org.users.some((u) => u.dept_id_list.length > 1)).toBe(true);
    expect(org.users.some((u) => u.leader_in_dept?.some((l) => l.leader))).toBe(true);
    expect(org.users.some((u) => u.dept_order_list?.some((o) => BigInt(o.order) > 2n ** 53n))).toBe(true);
    expect(org.users.some((u) => /^0/.test(u.userid))).toBe(true);
    expect(org.users.some((u) => /^\d{19}$/.test(u.userid))).toBe(true);

    // Seeded into the simulator, the API serves it: every member of one department, paged.
    await startSim();
    sim.seed(org);
    const t = await token();
    const dept = org.users[0]!.dept_id_list[0]!;
    const expected = org.users.filter((u) => u.dept_id_list.includes(dept)).map((u) => u.userid);
    expect(result(await post('topapi/user/listid', { dept_id: dept }, t)).userid_list).toEqual(expected);
  });
});
