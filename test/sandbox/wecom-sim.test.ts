/**
 * The WeCom simulator's HTTP surface (lib/sandbox/wecom-sim.ts), over real HTTP: tokens and
 * secrets, the trusted-IP and detail-read restrictions, each contact route's answers, list_id
 * paging, the rate limit, fault injection and the hand-edit helpers. The directory's rules are
 * tested on their own in wecom-departments.test.ts and wecom-members.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimError } from '../../lib/sandbox/http';
import { WeComSimulator, type WeComSimulatorOptions } from '../../lib/sandbox/wecom-sim';
import { WECOM_ERR } from '../../lib/wecom/errors';

const T0 = 1_700_000_000_000;

function manualClock(start = T0) {
  return {
    t: start,
    now() {
      return this.t;
    },
  };
}

let sim: WeComSimulator;
let base: string;
let t: string;

async function startSim(opts: WeComSimulatorOptions = {}): Promise<void> {
  sim = new WeComSimulator(opts);
  base = `${await sim.start()}/cgi-bin`;
  t = await token(sim.contactSecret);
}

afterEach(async () => {
  await sim?.stop();
});

type Json = Record<string, unknown>;

async function get(api: string, query: Record<string, string> = {}): Promise<Json> {
  const res = await fetch(`${base}/${api}?${new URLSearchParams(query)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

/** `accessToken` null sends no token at all. */
async function post(api: string, body: unknown, accessToken: string | null = t): Promise<Json> {
  const qs = accessToken === null ? '' : `?access_token=${encodeURIComponent(accessToken)}`;
  const res = await fetch(`${base}/${api}${qs}`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

async function token(secret: string): Promise<string> {
  const a = await get('gettoken', { corpid: sim.corpId, corpsecret: secret });
  expect(a.errcode).toBe(0);
  return a.access_token as string;
}

const code = (a: Json) => a.errcode;

let mobiles = 0;

/** A valid member payload with a mobile nobody else has; tests override one field at a time. */
function member(userid: string, extra: Json = {}): Json {
  return { userid, name: '张三', department: [1], mobile: `+86 139${String(++mobiles).padStart(8, '0')}`, to_invite: false, ...extra };
}

describe('gettoken, secrets and tokens', () => {
  it('returns the same token while valid and a new one after expiry (42001 for the old)', async () => {
    const clock = manualClock();
    await startSim({ clock });
    clock.t += 60_000;
    expect(await token(sim.contactSecret)).toBe(t);
    const first = await get('gettoken', { corpid: sim.corpId, corpsecret: sim.contactSecret });
    expect(first.expires_in).toBe(7200 - 60);
    clock.t = T0 + 7200_000;
    expect(code(await post('user/list_id', {}))).toBe(WECOM_ERR.expiredToken);
    const fresh = await token(sim.contactSecret);
    expect(fresh).not.toBe(t);
    expect(code(await post('user/list_id', {}, fresh))).toBe(0);
  });

  it('answers 40001 for a wrong secret and 40013 for a wrong corpid', async () => {
    await startSim();
    expect(code(await get('gettoken', { corpid: sim.corpId, corpsecret: 'wrong' }))).toBe(WECOM_ERR.badSecret);
    expect(code(await get('gettoken', { corpid: 'wwother', corpsecret: sim.contactSecret }))).toBe(WECOM_ERR.invalidCorpId);
  });

  it('answers 41001 without a token, 40014 for an unknown one, 42001 after expireTokens()', async () => {
    await startSim();
    expect(code(await post('user/list_id', {}, null))).toBe(WECOM_ERR.missingToken);
    expect(code(await post('user/list_id', {}, 'made-up'))).toBe(WECOM_ERR.invalidToken);
    sim.expireTokens();
    expect(code(await post('user/list_id', {}))).toBe(WECOM_ERR.expiredToken);
  });

  it("a self-built app's secret gets a token, but contact writes and the member id list answer 48002", async () => {
    await startSim();
    const appToken = await token(sim.appSecret);
    expect(code(await post('department/create', { name: 'A', parentid: 1 }, appToken))).toBe(WECOM_ERR.apiForbidden);
    expect(code(await post('user/create', member('a1'), appToken))).toBe(48002);
    // user/list_id is the contact-sync secret's alone: the doctor tells the two secrets apart by it.
    expect(code(await post('user/list_id', {}, appToken))).toBe(WECOM_ERR.apiForbidden);
    expect(code(await get('department/simplelist', { access_token: appToken }))).toBe(0);
    expect(sim.listDepts()).toHaveLength(1);
  });

  it('error messages carry a hint, the caller IP and the help link, like WeCom', async () => {
    await startSim();
    const a = await post('user/update', { userid: 'ghost', name: 'x' });
    expect(a.errcode).toBe(WECOM_ERR.useridNotFound);
    expect(a.errmsg).toMatch(
      /^userid not found, hint: \[.+\], from ip: 127\.0\.0\.1, more info at https:\/\/open\.work\.weixin\.qq\.com\/devtool\/query\?e=60111$/,
    );
  });
});

describe('trusted IP and detail reads', () => {
  it('requireTrustedIp makes every contact API answer 60020 naming the caller IP, until the IP is trusted', async () => {
    await startSim();
    sim.requireTrustedIp = true;
    expect(await token(sim.contactSecret)).toBe(t); // gettoken is not restricted
    for (const a of [
      await post('user/list_id', {}),
      await post('department/create', { name: 'A', parentid: 1 }),
      await get('department/simplelist', { access_token: t }),
    ]) {
      expect(a.errcode).toBe(WECOM_ERR.untrustedIp);
      expect(a.errmsg).toMatch(/not allow to access from your ip.*from ip: 127\.0\.0\.1/);
    }
    sim.trustedIps.add('127.0.0.1');
    expect(code(await post('user/list_id', {}))).toBe(0);
  });

  it.each(['user/get', 'user/list', 'user/simplelist', 'department/list', 'department/get'])('%s answers 48009 to the contact-sync secret', async (api) => {
    await startSim();
    expect(code(await get(api, { access_token: t, userid: 'a', id: '1', department_id: '1' }))).toBe(WECOM_ERR.detailReadForbidden);
  });
});

describe('department routes', () => {
  beforeEach(() => startSim());

  it('creates with an assigned or a requested id and lists the subtree with simplelist', async () => {
    const a = await post('department/create', { name: '研发部', parentid: 1, order: 10 });
    expect(a).toMatchObject({ errcode: 0, errmsg: 'created', id: 2 });
    expect(code(await post('department/create', { name: '前端组', parentid: 2, id: 4_000_000_000 }))).toBe(0);
    expect(code(await post('department/create', { name: '市场部', parentid: 1 }))).toBe(0);
    expect(sim.getDept(4_000_000_000)).toEqual({ id: 4_000_000_000, name: '前端组', parentid: 2, order: 0 });
    const sub = await get('department/simplelist', { access_token: t, id: '2' });
    expect(sub.department_id).toEqual([
      { id: 2, parentid: 1, order: 10 },
      { id: 4_000_000_000, parentid: 2, order: 0 },
    ]);
    const all = (await get('department/simplelist', { access_token: t })).department_id as unknown[];
    expect(all).toHaveLength(4);
    expect(code(await get('department/simplelist', { access_token: t, id: '77' }))).toBe(WECOM_ERR.deptNotFound);
  });

  it("department/update answers 'updated'", async () => {
    await post('department/create', { name: 'A', parentid: 1, id: 10, order: 5 });
    expect(await post('department/update', { id: 10, name: 'A2' })).toMatchObject({ errcode: 0, errmsg: 'updated' });
    expect(sim.getDept(10)).toEqual({ id: 10, name: 'A2', parentid: 1, order: 5 });
  });

  it('delete: 60003 missing, 60006 children, 60005 members, 60007 root', async () => {
    await post('department/create', { name: 'A', parentid: 1, id: 10 });
    await post('department/create', { name: 'B', parentid: 10, id: 11 });
    sim.seedUser({ userid: 'm1', name: '成员', department: [11], mobile: '13800000001' });
    const del = (id: number) => get('department/delete', { access_token: t, id: String(id) });
    expect(code(await del(99))).toBe(WECOM_ERR.deptNotFound);
    expect(code(await del(10))).toBe(WECOM_ERR.deptHasChildren);
    expect(code(await del(11))).toBe(WECOM_ERR.deptHasMembers);
    expect(code(await del(1))).toBe(WECOM_ERR.rootDept);
    sim.removeUserByHand('m1');
    expect(await del(11)).toMatchObject({ errcode: 0, errmsg: 'deleted' });
    expect(code(await del(10))).toBe(0);
    expect(sim.listDepts().map((d) => d.id)).toEqual([1]);
  });

  it('GET APIs refuse POST (43001) and POST APIs refuse GET (43002)', async () => {
    expect(code(await post('department/delete', {}))).toBe(WECOM_ERR.requireGet);
    expect(code(await get('department/create', { access_token: t }))).toBe(WECOM_ERR.requirePost);
  });
});

describe('member routes', () => {
  beforeEach(async () => {
    await startSim();
    sim.seedDept({ id: 2, name: '研发部', parentid: 1 });
    sim.seedDept({ id: 3, name: '市场部', parentid: 1 });
  });

  it('creates a member with every field stored, and invites unless to_invite is false', async () => {
    const a = await post('user/create', {
      userid: 'zhang.san@corp',
      name: '张三',
      department: [2, 3],
      order: [10, 20],
      is_leader_in_dept: [1, 0],
      main_department: 3,
      mobile: '+86 13800000000',
      email: 'zhang@example.com',
      position: '工程师',
      telephone: '010-12345678',
      enable: 1,
      to_invite: false,
    });
    expect(a).toMatchObject({ errcode: 0, errmsg: 'created' });
    expect(sim.getUser('ZHANG.SAN@corp')).toEqual({
      userid: 'zhang.san@corp',
      name: '张三',
      department: [2, 3],
      order: [10, 20],
      is_leader_in_dept: [1, 0],
      main_department: 3,
      mobile: '+86 13800000000',
      email: 'zhang@example.com',
      position: '工程师',
      telephone: '010-12345678',
      direct_leader: [],
      enable: 1,
    });
    expect(sim.invited).toEqual([]);
    await post('user/create', { userid: 'invitee', name: '李四', department: [2], email: 'li@example.com' });
    expect(sim.invited).toEqual(['invitee']);
  });

  it("user/update answers 'updated' and finds the member ignoring case", async () => {
    await post('user/create', member('u1', { department: [2, 3], order: [5, 6], position: '经理', email: 'u1@example.com' }));
    expect(await post('user/update', { userid: 'U1', name: '新名字', enable: 0 })).toMatchObject({ errcode: 0, errmsg: 'updated' });
    expect(sim.getUser('u1')).toMatchObject({ userid: 'u1', name: '新名字', enable: 0, position: '经理', department: [2, 3], order: [5, 6] });
  });

  it('delete: 60111 when missing, and the member leaves its departments', async () => {
    await post('user/create', member('gone', { department: [2] }));
    expect(code(await get('user/delete', { access_token: t, userid: 'nobody' }))).toBe(WECOM_ERR.useridNotFound);
    expect(await get('user/delete', { access_token: t, userid: 'GONE' })).toMatchObject({ errcode: 0, errmsg: 'deleted' });
    expect(sim.getUser('gone')).toBeUndefined();
    expect(code(await get('department/delete', { access_token: t, id: '2' }))).toBe(0);
  });
});

describe('user/list_id pages whole members with a cursor that survives deletions', () => {
  beforeEach(async () => {
    await startSim();
    sim.seedDept({ id: 2, name: 'A', parentid: 1 });
    for (let i = 0; i < 30; i++) sim.seedUser({ userid: `u${i}`, name: '成员', department: i % 3 === 0 ? [1, 2] : [2], email: `u${i}@example.com` });
  });

  async function all(limit: number, between?: (page: number) => void) {
    const rows: { userid: string; department: number }[] = [];
    const pageSizes: number[] = [];
    let cursor = '';
    for (let page = 0; ; page++) {
      const a = await post('user/list_id', { cursor, limit });
      expect(a.errcode).toBe(0);
      const got = a.dept_user as typeof rows;
      pageSizes.push(got.length);
      rows.push(...got);
      cursor = a.next_cursor as string;
      if (cursor === '') break;
      between?.(page);
    }
    return { rows, pageSizes };
  }

  it('pages one row per member and department, never splitting a member across pages', async () => {
    const { rows, pageSizes } = await all(10);
    expect(rows).toHaveLength(40); // 10 members in two departments, 20 in one
    expect(new Set(rows.map((r) => `${r.userid}/${r.department}`)).size).toBe(40);
    expect(rows.filter((r) => r.userid === 'u0').map((r) => r.department)).toEqual([1, 2]);
    expect(pageSizes.every((n) => n <= 10)).toBe(true);
    expect(pageSizes.length).toBeGreaterThanOrEqual(4);
  });

  it('returns everything in one page by default', async () => {
    const a = await post('user/list_id', {});
    expect(a).toMatchObject({ errcode: 0, next_cursor: '' });
    expect(a.dept_user).toHaveLength(40);
  });

  it('skips nobody when members are deleted between pages', async () => {
    const { rows } = await all(10, (page) => {
      if (page === 0) for (const id of ['u0', 'u1', 'u2']) sim.removeUserByHand(id);
    });
    const ids = new Set(rows.map((r) => r.userid));
    for (let i = 3; i < 30; i++) expect(ids.has(`u${i}`), `u${i}`).toBe(true);
  });

  it('rejects a limit above 10,000 or a made-up cursor (40058)', async () => {
    expect(code(await post('user/list_id', { limit: 10_001 }))).toBe(WECOM_ERR.invalidParam);
    expect(code(await post('user/list_id', { cursor: 'bogus' }))).toBe(40058);
  });
});

describe('rate limit and fault injection', () => {
  it('answers 45009 above the per-API limit per minute, per API, until the next window', async () => {
    const clock = manualClock();
    await startSim({ clock, rateLimitPerMinute: 3 });
    const codes: unknown[] = [];
    for (let i = 0; i < 4; i++) codes.push(code(await post('user/list_id', {})));
    expect(codes).toEqual([0, 0, 0, WECOM_ERR.rateLimited]);
    expect(code(await get('department/simplelist', { access_token: t }))).toBe(0);
    clock.t += 60_000;
    expect(code(await post('user/list_id', {}))).toBe(0);
  });

  it("defaults to WeCom's 10,000 calls per minute per API; null turns limiting off", () => {
    expect(new WeComSimulator().rateLimit).toEqual({ limit: 10_000, windowMs: 60_000 });
    expect(new WeComSimulator({ rateLimitPerMinute: null }).rateLimit).toBeUndefined();
  });

  it('failNext, failNextHttp and dropNext affect only the next calls of that API', async () => {
    await startSim();
    sim.failNext('user/create', 45033, 1);
    sim.failNextHttp('user/create', 503, 1);
    sim.dropNext('user/create', 1);
    expect(code(await post('user/create', member('f1')))).toBe(45033);
    const res = await fetch(`${base}/user/create?access_token=${t}`, { method: 'POST', body: JSON.stringify(member('f1')) });
    expect(res.status).toBe(503);
    await expect(fetch(`${base}/user/create?access_token=${t}`, { method: 'POST', body: JSON.stringify(member('f1')) })).rejects.toThrow();
    expect(sim.getUser('f1')).toBeUndefined(); // none of the failed calls wrote anything
    expect(code(await post('user/create', member('f1')))).toBe(0);
    expect(sim.calls['user/create']).toBe(4);
  });

  it('answerNext answers HTTP 200 with any body instead of running the API, for the next calls only', async () => {
    await startSim();
    sim.answerNext('user/create', '{}');
    sim.answerNext('user/create', 'null', 2);
    const raw = async () => {
      const res = await fetch(`${base}/user/create?access_token=${t}`, { method: 'POST', body: JSON.stringify(member('a1')) });
      return [res.status, await res.text()];
    };
    expect([await raw(), await raw(), await raw()]).toEqual([
      [200, '{}'],
      [200, 'null'],
      [200, 'null'],
    ]);
    expect(sim.getUser('a1')).toBeUndefined(); // the API did not run
    expect(code(await post('user/create', member('a1')))).toBe(0);
    expect(sim.calls['user/create']).toBe(4);
    expect(() => sim.answerNext('user/create', '{}', 0)).toThrow(RangeError);
  });

  it('rewriteNext runs the API, then sends its answer rewritten: here department/create loses its id', async () => {
    await startSim();
    sim.rewriteNext('department/create', ({ id: _id, ...rest }) => rest);
    const lost = await post('department/create', { name: '研发', parentid: 1 });
    expect(lost).toEqual({ errcode: 0, errmsg: 'created' });
    const created = sim.listDepts().find((d) => d.name === '研发');
    expect(created?.id).toBeGreaterThan(1); // the department exists all the same
    // An error answer is rewritten too, and only the next call is affected.
    sim.rewriteNext('department/create', ({ errcode: _errcode, ...rest }) => rest);
    const clash = await post('department/create', { name: '研发', parentid: 1 });
    expect(clash.errcode).toBeUndefined();
    expect(clash.errmsg).toMatch(/^department existed/);
    expect(await post('department/create', { name: '测试', parentid: 1 })).toMatchObject({ errcode: 0, id: expect.any(Number) });
  });

  it('delayMs makes a client time out; a malformed body answers 47001', async () => {
    await startSim();
    sim.delayMs('user/list_id', 60_000);
    await expect(fetch(`${base}/user/list_id?access_token=${t}`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(200) })).rejects.toThrow();
    sim.clearFaults();
    const res = await fetch(`${base}/user/list_id?access_token=${t}`, { method: 'POST', body: '{not json' });
    expect(((await res.json()) as Json).errcode).toBe(WECOM_ERR.badJson);
  });

  it('counts calls per API and resets the counters', async () => {
    await startSim();
    await post('user/list_id', {});
    await post('user/list_id', {});
    expect(sim.calls).toEqual({ gettoken: 1, 'user/list_id': 2 });
    sim.resetCalls();
    expect(sim.calls).toEqual({});
  });
});

describe('hand edits (drift)', () => {
  beforeEach(() => startSim());

  it('seeded and hand-edited objects show through the id lists', async () => {
    const a = sim.seedDept({ name: 'A', parentid: 1 });
    const b = sim.seedDept({ name: 'B', parentid: 1 });
    sim.seedUser({ userid: 'admin-made', name: '手工', department: [a], mobile: '13700000000' });
    sim.moveDeptByHand(b, a);
    sim.updateUserByHand('admin-made', { department: [b] });
    const depts = (await get('department/simplelist', { access_token: t })).department_id;
    expect(depts).toEqual([
      { id: 1, parentid: 0, order: 0 },
      { id: a, parentid: 1, order: 0 },
      { id: b, parentid: a, order: 0 },
    ]);
    expect((await post('user/list_id', {})).dept_user).toEqual([{ userid: 'admin-made', department: b }]);
    sim.removeUserByHand('admin-made');
    expect((await post('user/list_id', {})).dept_user).toEqual([]);
  });

  it('hand edits obey the same rules and throw the errcode', () => {
    sim.seedUser({ userid: 'x', name: '甲', department: [1], mobile: '13700000000' });
    const err = (() => {
      try {
        sim.seedUser({ userid: 'y', name: '乙', department: [1], mobile: '13700000000' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).errcode).toBe(WECOM_ERR.mobileExists);
    expect(() => sim.moveDeptByHand(1, 1)).toThrow(SimError);
    expect(() => sim.removeUserByHand('nobody')).toThrow(/60111/);
  });
});
