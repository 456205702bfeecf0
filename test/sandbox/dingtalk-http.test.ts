/**
 * The DingTalk simulator's HTTP surface (lib/sandbox/dingtalk-http.ts), over real HTTP: tokens,
 * the user and department reads with DingTalk's errcodes and raw big integers, cursor paging,
 * the failed-push list route, the rate limit and fault injection.
 */
import { isLosslessNumber, parse } from 'lossless-json';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { DingTalkSimulator, type DingTalkSimulatorOptions } from '../../lib/sandbox/dingtalk-sim';
import { type Answer, dingtalkClient, manualClock, T0 } from './support';

const BIG_ORDER = '176543210987654321'; // > 2^53: JSON.parse would round it

let sim: DingTalkSimulator;
let base: string;
const { get, post, token, result } = dingtalkClient(() => sim);

async function startSim(opts: DingTalkSimulatorOptions = {}): Promise<void> {
  sim = new DingTalkSimulator(opts);
  base = await sim.start();
}

afterEach(async () => {
  await sim?.stop();
});

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

  it("user/list answers DingTalk's list item: order and leadership for the listed department only, and no manager", async () => {
    const listed = async (deptId: number) => {
      const a = await post('topapi/v2/user/list', { dept_id: deptId, cursor: 0, size: 100 }, t);
      return { text: a.text, item: (result(a) as { list: Record<string, unknown>[] }).list[0]! };
    };
    const inRd = await listed(200);
    expect(inRd.item).toMatchObject({
      userid: '0123456789012345678',
      name: '张三',
      mobile: '13800000001',
      state_code: '86',
      email: 'zhang@example.com',
      title: '工程师',
      active: true,
      admin: false,
      boss: false,
      dept_id_list: [200, 300],
      leader: true,
    });
    // Written raw, as DingTalk writes orders: only a lossless parse keeps every digit.
    expect(inRd.text).toContain(`"dept_order":${BIG_ORDER}`);
    for (const absent of ['manager_userid', 'dept_order_list', 'leader_in_dept', 'role_list']) expect(inRd.item).not.toHaveProperty(absent);
    const documented = new Set([
      ...['userid', 'unionid', 'name', 'avatar', 'state_code', 'mobile', 'hide_mobile', 'telephone', 'job_number', 'title', 'email', 'org_email'],
      ...['work_place', 'remark', 'dept_id_list', 'dept_order', 'extension', 'hired_date', 'active', 'admin', 'boss', 'leader'],
      ...['exclusive_account', 'exclusive_account_type', 'login_id'],
    ]);
    expect(Object.keys(inRd.item).filter((k) => !documented.has(k))).toEqual([]);

    const inFrontEnd = await listed(300);
    expect(inFrontEnd.item).toMatchObject({ userid: '0123456789012345678', dept_order: 7, leader: false });
    expect((await listed(201)).item).toMatchObject({ userid: 'manager164', leader: false });

    sim.withheldFields = ['mobile', 'state_code'];
    const withheld = (await listed(201)).item;
    expect(withheld).not.toHaveProperty('mobile');
    expect(withheld).not.toHaveProperty('state_code');
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

  it('serves 250 direct members in 3 pages, without the sub-department member', async () => {
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

describe('get_call_back_failed_result serves the failed-push list page by page', () => {
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

  it('answerNext sends any HTTP 200 body; rewriteNext rewrites the answer and keeps big integers raw', async () => {
    await startSim();
    const t = await token();
    sim.answerNext('topapi/v2/department/get', '{"errmsg":"ok"}');
    expect((await post('topapi/v2/department/get', { dept_id: 1 }, t)).text).toBe('{"errmsg":"ok"}');
    sim.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1, order: BIG_ORDER }] });
    sim.rewriteNext('topapi/v2/department/get', ({ errcode: _errcode, ...rest }) => rest);
    const rewritten = await post('topapi/v2/department/get', { dept_id: 2 }, t);
    expect(rewritten.json.errcode).toBeUndefined();
    expect(rewritten.text).toContain(`"order":${BIG_ORDER}`);
    expect((await post('topapi/v2/department/get', { dept_id: 2 }, t)).json.errcode).toBe(0);
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
