import { describe, expect, it } from 'vitest';
import type { DingTalkDept, DingTalkUser, EntityState, WeComDeptPayload, WeComDeptRef, WeComUserDeptRow } from '../../lib/ports';
import { mapDept, mapUser } from '../../lib/sync/mapping';
import { deptPayloadHash, payloadHash } from '../../lib/sync/payload-hash';
import { type PlanInput, planReconcile } from '../../lib/sync/plan';

// DingTalk: 1 ─┬─ 2 研发部 ── 3 后端组
//              └─ 4 市场部
const depts: DingTalkDept[] = [
  { dept_id: 2, name: '研发部', parent_id: 1 },
  { dept_id: 3, name: '后端组', parent_id: 2 },
  { dept_id: 4, name: '市场部', parent_id: 1 },
];
const users: DingTalkUser[] = [
  { userid: 'lisi', name: '李四', mobile: '13800000002', dept_id_list: [2] },
  { userid: 'zhangsan', name: '张三', mobile: '13800000001', dept_id_list: [3], manager_userid: 'lisi' },
];

const parentOf = (d: DingTalkDept) => (d.parent_id === 1 ? 1 : d.parent_id!);

/** The store and WeCom as they are after a successful sync of `depts` and `users`. */
function converged() {
  const deptStates: EntityState[] = depts.map((d) => {
    const payload = mapDept(d, parentOf(d));
    return {
      kind: 'dept',
      id: String(d.dept_id),
      wecomId: String(d.dept_id),
      owned: true,
      status: 'synced',
      payload: { ...payload, id: d.dept_id },
      payloadHash: deptPayloadHash(payload),
      updatedAt: 1,
      version: 1,
    };
  });
  const userStates: EntityState[] = users.map((u) => {
    const payload = mapUser(u, { wecomDeptId: (d) => d, isSyncedUser: () => true, toInvite: false });
    return {
      kind: 'user',
      id: u.userid,
      wecomId: u.userid,
      owned: true,
      status: 'synced',
      payload,
      payloadHash: payloadHash(payload),
      updatedAt: 1,
      version: 1,
    };
  });
  const wecomDepts: WeComDeptRef[] = [{ id: 1, parentid: 0 }, ...depts.map((d) => ({ id: d.dept_id, parentid: parentOf(d) }))];
  const wecomUserDepts: WeComUserDeptRow[] = users.flatMap((u) => u.dept_id_list.map((d) => ({ userid: u.userid, department: d })));
  return { deptStates, userStates, wecomDepts, wecomUserDepts };
}

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    dingtalkDepts: depts,
    dingtalkUsers: users,
    ...converged(),
    config: { onLeave: 'disable', rootDeptIds: [1], excludeDeptIds: [], toInvite: false },
    ...over,
  };
}

const ops = (i: PlanInput) => planReconcile(i).ops.map((o) => `${o.op} ${o.id}${'force' in o && o.force ? ' (force)' : ''}`);

describe('planReconcile', () => {
  it('first import: departments parent first, then users', () => {
    expect(ops(input({ deptStates: [], userStates: [], wecomDepts: [{ id: 1, parentid: 0 }], wecomUserDepts: [] }))).toEqual([
      'create_dept 2',
      'create_dept 4',
      'create_dept 3',
      'create_user lisi',
      'create_user zhangsan',
    ]);
  });

  it('a converged organisation plans nothing', () => {
    expect(ops(input())).toEqual([]);
  });

  it('adopts WeCom objects whose ids match DingTalk entities the store does not know', () => {
    const c = converged();
    expect(ops(input({ deptStates: c.deptStates.filter((s) => s.id !== '4'), userStates: c.userStates.filter((s) => s.id !== 'lisi') }))).toEqual([
      'adopt_dept 4',
      'adopt_user lisi',
    ]); // lisi is written this run, so zhangsan's direct_leader stays
  });

  it('updates what changed in DingTalk and says what changed', () => {
    const plan = planReconcile(
      input({
        dingtalkDepts: depts.map((d) => (d.dept_id === 3 ? { ...d, name: '平台组', parent_id: 4 } : d)),
        dingtalkUsers: users.map((u) => (u.userid === 'lisi' ? { ...u, title: '总监' } : u)),
      }),
    );
    expect(plan.ops.map((o) => [o.op, o.id, o.changes])).toEqual([
      ['update_dept', '3', 'name "后端组" → "平台组", parent 2 → 4'],
      ['update_user', 'lisi', 'changed: position'],
    ]);
  });

  it('repairs structural drift WeCom’s id lists show, with force', () => {
    const c = converged();
    const wecomDepts = c.wecomDepts.filter((d) => d.id !== 4).map((d) => (d.id === 3 ? { ...d, parentid: 1 } : d));
    const wecomUserDepts = c.wecomUserDepts.filter((r) => r.userid !== 'lisi').concat({ userid: 'lisi', department: 4 });
    expect(ops(input({ wecomDepts, wecomUserDepts }))).toEqual(['restore_dept 4 (force)', 'move_dept 3 (force)', 'restore_user lisi (force)']);
  });

  it('restores an owned user deleted in WeCom', () => {
    expect(ops(input({ wecomUserDepts: converged().wecomUserDepts.filter((r) => r.userid !== 'zhangsan') }))).toEqual(['restore_user zhangsan (force)']);
  });

  it('applies SYNC_ON_LEAVE to owned users gone from DingTalk; never to users it does not own', () => {
    const c = converged();
    const stranger: EntityState = { kind: 'user', id: 'stranger', wecomId: 'stranger', owned: false, status: 'failed', updatedAt: 1, version: 1 };
    const base = { dingtalkUsers: users.filter((u) => u.userid !== 'zhangsan'), userStates: [...c.userStates, stranger] };
    expect(ops(input({ ...base }))).toEqual(['disable_user zhangsan']);
    expect(ops(input({ ...base, config: { onLeave: 'delete', rootDeptIds: [1], excludeDeptIds: [], toInvite: false } }))).toEqual(['delete_user zhangsan']);
    expect(ops(input({ ...base, config: { onLeave: 'ignore', rootDeptIds: [1], excludeDeptIds: [], toInvite: false } }))).toEqual([]);
  });

  it('does not disable twice, and re-enables a disabled user who is back', () => {
    const c = converged();
    const disabled = c.userStates.map((s) => (s.id === 'zhangsan' ? { ...s, status: 'disabled' as const } : s));
    expect(ops(input({ userStates: disabled, dingtalkUsers: users.filter((u) => u.userid !== 'zhangsan') }))).toEqual([]);
    expect(ops(input({ userStates: disabled }))).toEqual(['reenable_user zhangsan']);
  });

  it('deletes owned departments gone from DingTalk children first, after the users', () => {
    const plan = planReconcile(input({ dingtalkDepts: depts.filter((d) => d.dept_id === 4), dingtalkUsers: [{ ...users[0]!, dept_id_list: [4] }] }));
    expect(plan.ops.map((o) => `${o.op} ${o.id}`)).toEqual(['update_user lisi', 'disable_user zhangsan', 'delete_dept 3', 'delete_dept 2']);
    expect([plan.userRemovals, plan.ownedUsers, plan.deptRemovals, plan.ownedDepts]).toEqual([1, 2, 2, 3]);
  });

  it('plans the deletion of a department gone from DingTalk whose create WeCom numbers is in doubt, before the others (its copy must be found first)', () => {
    const c = converged();
    const inDoubt: EntityState = {
      kind: 'dept',
      id: '3000000000',
      owned: false,
      status: 'failed',
      creating: { parentid: 2, name: '法务', childIds: [3] },
      updatedAt: 1,
      version: 2,
    };
    expect(ops(input({ deptStates: [...c.deptStates, inDoubt] }))).toEqual(['delete_dept 3000000000']);
    expect(planReconcile(input({ deptStates: [...c.deptStates, inDoubt] })).deptRemovals).toBe(1);
    // Still in DingTalk: its own retry settles it; once settled (no snapshot), nothing.
    const stillThere = [...depts, { dept_id: 3000000000, name: '法务', parent_id: 2 }];
    expect(ops(input({ dingtalkDepts: stillThere, deptStates: [...c.deptStates, inDoubt] }))).not.toContain('delete_dept 3000000000');
    expect(ops(input({ deptStates: [...c.deptStates, { ...inDoubt, creating: undefined }] }))).toEqual([]);
  });

  it('never deletes a department it does not own', () => {
    const c = converged();
    const deptStates = c.deptStates.map((s) => (s.id === '3' ? { ...s, owned: false } : s));
    expect(
      ops(input({ deptStates, dingtalkDepts: depts.filter((d) => d.dept_id !== 3), dingtalkUsers: users.filter((u) => u.userid !== 'zhangsan') })),
    ).toEqual(['disable_user zhangsan']);
  });

  it('takes users out of an owned department that left the scope before deleting it', () => {
    // 4 excluded: DingTalk reads no longer list it; lisi is in 2 and 4, so only 2 remains for him.
    const lisi = { ...users[0]!, dept_id_list: [2, 4] };
    const c = converged();
    const userStates = c.userStates.map((s) => {
      if (s.id !== 'lisi') return s;
      const payload = mapUser(lisi, { wecomDeptId: (d) => d, isSyncedUser: () => true, toInvite: false });
      return { ...s, payload, payloadHash: payloadHash(payload) };
    });
    const plan = planReconcile(
      input({
        dingtalkDepts: depts.filter((d) => d.dept_id !== 4),
        dingtalkUsers: [lisi, users[1]!],
        userStates,
        wecomUserDepts: [...c.wecomUserDepts, { userid: 'lisi', department: 4 }],
      }),
    );
    expect(plan.ops.map((o) => `${o.op} ${o.id}`)).toEqual(['update_user lisi', 'delete_dept 4']);
  });

  it('retries entities recorded as failed', () => {
    const c = converged();
    const userStates = c.userStates.map((s) => (s.id === 'zhangsan' ? { ...s, status: 'failed' as const, lastErrcode: 60104 } : s));
    expect(ops(input({ userStates }))).toEqual(['retry_user zhangsan (force)']);
  });

  it('retries a department create that failed, forced (the worker does not retry it until the department changes)', () => {
    const c = converged();
    const deptStates = c.deptStates.map((s) =>
      s.id === '4'
        ? { kind: 'dept' as const, id: '4', owned: false, status: 'failed' as const, lastErrcode: 60008, payloadHash: s.payloadHash, updatedAt: 1, version: 2 }
        : s,
    );
    expect(ops(input({ deptStates, wecomDepts: c.wecomDepts.filter((d) => d.id !== 4) })).slice(0, 1)).toEqual(['create_dept 4 (force)']);
  });

  it('compares a department’s order only when its reader had one: the listing has none, so an order written from an event stays', () => {
    const c = converged();
    const deptStates = c.deptStates.map((s) => (s.id === '4' ? { ...s, payload: { ...(s.payload as WeComDeptPayload), order: 7 } } : s));
    expect(ops(input({ deptStates }))).toEqual([]);
    const withOrder = depts.map((d) => (d.dept_id === 4 ? { ...d, order: '3' } : d)); // a configured root is read with department/get
    const plan = planReconcile(input({ deptStates, dingtalkDepts: withOrder }));
    expect(plan.ops.map((o) => [o.op, o.id, o.changes])).toEqual([['update_dept', '4', 'order']]);
  });

  it('keeps a blocked department that is back in DingTalk’s scope (forced, as its hash may not have changed)', () => {
    const c = converged();
    const deptStates = c.deptStates.map((s) => (s.id === '4' ? { ...s, status: 'blocked' as const, blockedBy: { users: ['handmade'], depts: [] } } : s));
    expect(ops(input({ deptStates }))).toEqual(['update_dept 4 (force)']);
  });

  it('lists a blocked department gone from the scope for the report, and plans its deletion again only when what WeCom holds in it changed', () => {
    const c = converged();
    const blockedBy = { users: ['handmade'], depts: [] };
    const deptStates = c.deptStates.map((s) =>
      s.id === '4' ? { ...s, status: 'blocked' as const, blockedBy, lastErrcode: 60005, lastError: 'holds handmade' } : s,
    );
    const dingtalkDepts = depts.filter((d) => d.dept_id !== 4);
    const wecomUserDepts = [...c.wecomUserDepts.filter((r) => r.department !== 4), { userid: 'handmade', department: 4 }];
    const dingtalkUsers = users.map((u) => ({ ...u, dept_id_list: u.dept_id_list.filter((d) => d !== 4) }));
    const same = planReconcile(input({ deptStates, dingtalkDepts, dingtalkUsers, wecomUserDepts }));
    expect(same.ops).toEqual([]);
    expect(same.blocked).toEqual([{ id: '4', wecomId: '4', errcode: 60005, message: 'holds handmade' }]);
    const moved = planReconcile(input({ deptStates, dingtalkDepts, dingtalkUsers, wecomUserDepts: wecomUserDepts.filter((r) => r.userid !== 'handmade') }));
    expect(moved.ops.map((o) => [o.op, o.id, o.changes])).toEqual([['delete_dept', '4', 'what blocked the deletion changed: delete']]);
    expect(moved.blocked).toEqual([]);
  });

  it('--rewrite-all rewrites every owned entity', () => {
    expect(ops(input({ rewriteAll: true }))).toEqual([
      'rewrite_dept 2 (force)',
      'rewrite_dept 4 (force)',
      'rewrite_dept 3 (force)',
      'rewrite_user lisi (force)',
      'rewrite_user zhangsan (force)',
    ]);
  });

  it('places a configured root directly under WeCom’s root', () => {
    const plan = planReconcile(
      input({
        dingtalkDepts: depts.filter((d) => d.dept_id !== 4),
        dingtalkUsers: users,
        config: { onLeave: 'disable', rootDeptIds: [2], excludeDeptIds: [], toInvite: false },
        deptStates: [],
        userStates: [],
        wecomDepts: [{ id: 1, parentid: 0 }],
        wecomUserDepts: [],
      }),
    );
    expect(plan.ops.slice(0, 2).map((o) => `${o.op} ${o.id}`)).toEqual(['create_dept 2', 'create_dept 3']);
  });
});

describe('planReconcile: identity and adoption follow the worker’s rules (identity.ts)', () => {
  it('adopts a WeCom department with the DingTalk id only under the same parent', () => {
    const c = converged();
    const deptOps = (i: PlanInput) => ops(i).filter((o) => o.endsWith('_dept 2') || o.endsWith('_dept 3'));
    const deptStates = c.deptStates.filter((s) => s.id !== '3');
    expect(deptOps(input({ deptStates }))).toEqual(['adopt_dept 3']);
    const elsewhere = c.wecomDepts.map((d) => (d.id === 3 ? { ...d, parentid: 4 } : d));
    expect(deptOps(input({ deptStates, wecomDepts: elsewhere }))).toEqual(['create_dept 3']);
    // A parent with no WeCom copy yet: nothing to compare with, so nothing is adopted.
    expect(deptOps(input({ deptStates: c.deptStates.filter((s) => s.id !== '2' && s.id !== '3') }))).toEqual(['adopt_dept 2', 'create_dept 3']);
    // Another record's copy (WeCom gave it id 3 when its own was taken): not free, wherever it sits.
    const heldByAnother = [...deptStates, { ...c.deptStates.find((s) => s.id === '3')!, id: '9' }];
    expect(deptOps(input({ deptStates: heldByAnother }))).toEqual(['create_dept 3']);
  });

  it('finds owned members ignoring case, as WeCom does: another spelling is not a deletion', () => {
    const wecomUserDepts = converged().wecomUserDepts.map((r) => (r.userid === 'zhangsan' ? { ...r, userid: 'ZhangSan' } : r));
    expect(ops(input({ wecomUserDepts }))).toEqual([]);
  });

  it('never adopts a member whose userid differs only in case: the conflict is planned, with both spellings, and nothing is written', () => {
    const c = converged();
    const wecomUserDepts = c.wecomUserDepts.map((r) => (r.userid === 'lisi' ? { ...r, userid: 'LiSi' } : r));
    const plan = planReconcile(input({ userStates: c.userStates.filter((s) => s.id !== 'lisi'), wecomUserDepts }));
    expect(plan.ops).toEqual([{ op: 'conflict_user', kind: 'user', id: 'lisi', wecomId: 'LiSi', changes: expect.stringMatching(/"LiSi".*"lisi"/) }]);
  });

  it('never adopts an exact match another owned state already holds', () => {
    const c = converged();
    // "LiSi" owns WeCom's "lisi" (an adoption across case made before this rule); DingTalk's "lisi" is someone else.
    const userStates = c.userStates.map((s) => (s.id === 'lisi' ? { ...s, id: 'LiSi' } : s));
    const dingtalkUsers = [...users, { ...users[0]!, userid: 'LiSi' }];
    const plan = planReconcile(input({ userStates, dingtalkUsers }));
    const forLisi = plan.ops.filter((o) => o.id === 'lisi').map((o) => `${o.op} ${o.changes}`);
    expect(forLisi).toEqual([expect.stringMatching(/^conflict_user .*belongs to DingTalk user "LiSi"/)]);
  });

  it('treats an unconfirmed create that WeCom shows as owned: a leaver is disabled, a department gone is deleted', () => {
    const c = converged();
    const claimed = (s: EntityState): EntityState => ({
      kind: s.kind,
      id: s.id,
      owned: false,
      status: 'pending',
      claim: { wecomId: s.wecomId, payload: s.payload },
      updatedAt: 1,
      version: 1,
    });
    const userStates = c.userStates.map((s) => (s.id === 'zhangsan' ? claimed(s) : s));
    const deptStates = c.deptStates.map((s) => (s.id === '3' ? claimed(s) : s));
    const plan = planReconcile(
      input({ userStates, deptStates, dingtalkUsers: users.filter((u) => u.userid !== 'zhangsan'), dingtalkDepts: depts.filter((d) => d.dept_id !== 3) }),
    );
    expect(plan.ops.map((o) => `${o.op} ${o.id} ${o.wecomId}`)).toEqual(['disable_user zhangsan zhangsan', 'delete_dept 3 3']);
    // A claim WeCom does not show (or shows under another parent, or spelled otherwise) is not ours.
    const unseen = planReconcile(
      input({
        userStates,
        deptStates,
        dingtalkUsers: users.filter((u) => u.userid !== 'zhangsan'),
        dingtalkDepts: depts.filter((d) => d.dept_id !== 3),
        wecomUserDepts: c.wecomUserDepts.map((r) => (r.userid === 'zhangsan' ? { ...r, userid: 'ZhangSan' } : r)),
        wecomDepts: c.wecomDepts.map((d) => (d.id === 3 ? { ...d, parentid: 4 } : d)),
      }),
    );
    expect(unseen.ops).toEqual([]);
  });
});

describe('planReconcile: a plan made after one run is empty', () => {
  it('predicts direct_leader as the worker sets it: a manager whose write failed is not a leader', () => {
    const c = converged();
    const noLeader = mapUser(users[1]!, { wecomDeptId: (d) => d, isSyncedUser: () => false, toInvite: false });
    const userStates = c.userStates.map((s) => {
      if (s.id === 'lisi') return { ...s, owned: false, status: 'failed' as const, lastErrcode: 60104 };
      if (s.id === 'zhangsan') return { ...s, payload: noLeader, payloadHash: payloadHash(noLeader) };
      return s;
    });
    const wecomUserDepts = c.wecomUserDepts.filter((r) => r.userid !== 'lisi');
    expect(ops(input({ userStates, wecomUserDepts }))).toEqual(['retry_user lisi (force)']);
  });

  it('a manager written this run, or one the leave policy keeps synced, leads; a leaver being disabled does not', () => {
    const c = converged();
    const noLeader = mapUser(users[1]!, { wecomDeptId: (d) => d, isSyncedUser: () => false, toInvite: false });
    const userStates = c.userStates.map((s) => (s.id === 'zhangsan' ? { ...s, payload: noLeader, payloadHash: payloadHash(noLeader) } : s));
    expect(ops(input({ userStates }))).toEqual(['update_user zhangsan']); // lisi is synced: zhangsan gets him
    const lisiLeft = { userStates, dingtalkUsers: users.filter((u) => u.userid !== 'lisi') };
    expect(ops(input(lisiLeft))).toEqual(['disable_user lisi']);
    expect(ops(input({ ...lisiLeft, config: { onLeave: 'ignore', rootDeptIds: [1], excludeDeptIds: [], toInvite: false } }))).toEqual(['update_user zhangsan']);
  });

  it('lists, apart from its operations, the people whose last write left out a manager in scope who could not lead then', () => {
    const c = converged();
    const waiting = (over: Partial<EntityState>, dingtalkUsers = users) =>
      planReconcile(input({ dingtalkUsers, userStates: c.userStates.map((s) => (s.id === 'zhangsan' ? { ...s, leaderWithheld: 'lisi', ...over } : s)) }))
        .reportingLinesWaiting;
    expect(planReconcile(input()).reportingLinesWaiting).toEqual([]);
    expect(waiting({})).toEqual(['zhangsan']);
    // Not when the person is not synced (their own write is retried), or out of scope, or when the manager is.
    expect(waiting({ status: 'failed' })).toEqual([]);
    expect(
      waiting(
        {},
        users.filter((u) => u.userid !== 'zhangsan'),
      ),
    ).toEqual([]);
    expect(
      waiting(
        {},
        users.filter((u) => u.userid !== 'lisi'),
      ),
    ).toEqual([]);
  });

  it('a reporting line kept from the last write to a manager who leaves this run is not kept: the report is read and written again', () => {
    const listed = users.map((u) => ({ ...u, manager_userid: undefined, unknownFields: ['manager_userid' as const] }));
    expect(ops(input({ dingtalkUsers: listed.filter((u) => u.userid !== 'lisi') }))).toEqual(['update_user zhangsan', 'disable_user lisi']);
  });

  it('neither compares nor writes a field a listing lacks: an unknown manager keeps the leader last written', () => {
    const listed = users.map((u) => ({ ...u, manager_userid: undefined, unknownFields: ['manager_userid' as const] }));
    expect(ops(input({ dingtalkUsers: listed }))).toEqual([]);
    // Other fields are still compared.
    expect(ops(input({ dingtalkUsers: listed.map((u) => (u.userid === 'zhangsan' ? { ...u, title: '工程师' } : u)) }))).toEqual(['update_user zhangsan']);
  });
});

describe('planReconcile: contact details held by disabled leavers', () => {
  it('names the disabled leavers the write may take a mobile or email from; never enabled or foreign holders', () => {
    const c = converged();
    const leaver = (over: Partial<EntityState>): EntityState => ({
      kind: 'user',
      id: 'old',
      wecomId: 'old',
      owned: true,
      status: 'disabled',
      payload: { userid: 'old', name: '旧', department: [1], mobile: '+86 13800000001' },
      updatedAt: 1,
      version: 1,
      ...over,
    });
    const userStates = c.userStates.filter((s) => s.id !== 'zhangsan');
    const stillThere = { userid: 'old', name: '旧', dept_id_list: [4] };
    const planned = (extra: EntityState, inDingTalk = false) =>
      planReconcile(input({ userStates: [...userStates, extra], dingtalkUsers: inDingTalk ? [...users, stillThere] : users })).ops.filter(
        (o) => o.id === 'zhangsan',
      );
    expect(planned(leaver({}))).toEqual([
      expect.objectContaining({ op: 'adopt_user', releaseFrom: ['old'], changes: expect.stringContaining('from disabled old') }),
    ]);
    for (const other of [leaver({ status: 'ignored' }), leaver({ owned: false })]) {
      expect(planned(other)[0]).not.toHaveProperty('releaseFrom');
    }
    // An enabled holder still in DingTalk is never asked; one this very run disables (it left
    // DingTalk) is, since the run disables leavers before it writes anyone else.
    const colleague = leaver({ id: 'lisi', wecomId: 'lisi', status: 'synced' });
    const withColleague = planReconcile(input({ userStates: [...userStates.filter((s) => s.id !== 'lisi'), colleague] })).ops.filter(
      (o) => o.id === 'zhangsan',
    );
    expect(withColleague[0]).not.toHaveProperty('releaseFrom');
    expect(planned(leaver({ status: 'synced' }))).toEqual([expect.objectContaining({ op: 'adopt_user', releaseFrom: ['old'] })]);
    expect(planReconcile(input({ userStates: [...userStates, leaver({ status: 'synced' })] })).ops.map((o) => `${o.op} ${o.id}`)).toContain('disable_user old');
  });

  it('counts a leaver this run disables (before anyone is written) among those who may give up their details', () => {
    const c = converged();
    const old: EntityState = {
      kind: 'user',
      id: 'old',
      wecomId: 'old',
      owned: true,
      status: 'synced',
      payload: { userid: 'old', name: '旧', department: [4], mobile: '+86 13800000001' },
      updatedAt: 1,
      version: 1,
    };
    const plan = planReconcile(input({ userStates: [...c.userStates.filter((s) => s.id !== 'zhangsan'), old] }));
    expect(plan.ops.filter((o) => o.id === 'old' || o.id === 'zhangsan')).toEqual([
      expect.objectContaining({ op: 'adopt_user', id: 'zhangsan', releaseFrom: ['old'] }),
      expect.objectContaining({ op: 'disable_user', id: 'old' }),
    ]);
  });
});
