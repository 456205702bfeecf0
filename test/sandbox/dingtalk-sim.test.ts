/**
 * The DingTalk simulator's public face (lib/sandbox/dingtalk-sim.ts): HR actions change the
 * organisation, push the event DingTalk would push (or nothing, for a lost event), and show
 * through the read API.
 */
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DingTalkSimulator, type DingTalkSimulatorOptions, generateOrg } from '../../lib/sandbox/dingtalk-sim';
import { AES_KEY, closeAll, dingtalkClient, type ReceiverReply, receiver as startReceiver, TOKEN } from './support';

const BIG_ORDER = '176543210987654321'; // > 2^53

let sim: DingTalkSimulator;
const servers: Server[] = [];
const { post, token, result } = dingtalkClient(() => sim);

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

describe('HR actions push the matching contact event', () => {
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
});

describe('seeding and HR actions show through the read API', () => {
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

  it('serves a generated 10,000-user organisation once seeded: every member of one department', async () => {
    const org = generateOrg({ users: 10_000, depts: 1_000, maxDepth: 6, seed: 7 });
    await startSim();
    sim.seed(org);
    const t = await token();
    const dept = org.users[0]!.dept_id_list[0]!;
    const expected = org.users.filter((u) => u.dept_id_list.includes(dept)).map((u) => u.userid);
    expect(result(await post('topapi/user/listid', { dept_id: dept }, t)).userid_list).toEqual(expected);
  });
});
