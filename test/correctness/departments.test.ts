/**
 * Departments: what blocks one department never blocks its people or loops in the queue;
 * conflicts that only come from the order of changes are resolved by the sync itself, even with
 * two workers at once; every field DingTalk changes (order included) reaches WeCom; a create whose
 * id WeCom assigns never takes a department it did not make.
 */
import { describe, expect, it } from 'vitest';
import { runOneBatch } from '../../lib/local/worker-loop';
import type { WeComDirectory } from '../../lib/ports';
import type { EntitySync } from '../../lib/sync/entity';
import { opsOf, rigLifecycle } from './rig';

const rigs = rigLifecycle();

const deptMessage = (corpId: string, id: number) => ({ kind: 'dept' as const, id: String(id), eventType: 'org_dept_modify', eventTime: Date.now(), corpId });

/** `wecom`, with some calls replaced. */
function withCalls(wecom: WeComDirectory, over: Partial<WeComDirectory>): WeComDirectory {
  return {
    createDept: (p) => wecom.createDept(p),
    updateDept: (p) => wecom.updateDept(p),
    deleteDept: (id) => wecom.deleteDept(id),
    listDepts: (root) => wecom.listDepts(root),
    createUser: (p) => wecom.createUser(p),
    updateUser: (p) => wecom.updateUser(p),
    deleteUser: (id) => wecom.deleteUser(id),
    listUserDepts: () => wecom.listUserDepts(),
    ...over,
  };
}

describe('a department that cannot be emptied', () => {
  it('because of a WeCom-only member: recorded as blocked naming that member, shown in the report, never dead-lettered, the member untouched, and deleted once its members change', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi', 'wangwu'] });
    await r.settle();
    r.wc.seedUser({ userid: 'handmade', name: '手工', department: [4], mobile: '+86 13700000000' });

    r.dt.updateUser('lisi', { dept_id_list: [2] });
    r.dt.updateUser('wangwu', { dept_id_list: [2] });
    r.dt.removeDept(4);
    const batches = await r.settle();
    expect(r.queue.deadLetters).toEqual([]);
    expect(batches.flatMap((b) => b.response.batchItemFailures)).toEqual([]);
    const blocked = await r.store.get('dept', '4');
    expect(blocked?.status).toBe('blocked');
    expect(blocked?.lastError).toMatch(/handmade/);

    const run = await r.reconcile();
    expect(run.report.errors).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'dept', id: '4', message: expect.stringMatching(/handmade/) })]));
    expect(r.wc.getUser('handmade')).toMatchObject({ name: '手工', department: [4], enable: 1 });

    r.wc.updateUserByHand('handmade', { department: [1] }); // an administrator moves them
    await r.reconcile();
    expect(r.wc.getDept(4)).toBeUndefined();
    expect((await r.store.get('dept', '4'))?.status).toBe('deleted');
  });

  it('because a member’s move failed permanently: recorded as blocked naming that member, never dead-lettered, and deleted once the member’s move succeeds', async () => {
    const r = await rigs.start();
    r.dt.addDept({ dept_id: 5, name: '临时组', parent_id: 1 }, { push: false });
    r.dt.addUser({ userid: 'qianqi', name: '钱七', mobile: '13800000007', dept_id_list: [5] });
    await r.settle();

    r.wc.failNext('user/update', 60112); // the move is refused for good
    r.dt.updateUser('qianqi', { dept_id_list: [4] });
    r.dt.removeDept(5);
    await r.settle();
    expect(r.queue.deadLetters).toEqual([]);
    const blocked = await r.store.get('dept', '5');
    expect(blocked?.status).toBe('blocked');
    expect(blocked?.lastError).toMatch(/qianqi/);

    r.dt.updateUser('qianqi', { title: '测试' }); // the member changes again, and this time the move succeeds
    await r.settle();
    expect(r.wc.getUser('qianqi')?.department).toEqual([4]);
    expect(r.wc.getDept(5)).toBeUndefined();
  });

  it('because an owned child department’s move failed: recorded as blocked by that child (which the sync moves itself), and deleted from the event flow once the child moves', async () => {
    const r = await rigs.start();
    r.dt.addDept({ dept_id: 5, name: '临时部', parent_id: 1 }, { push: false });
    r.dt.addDept({ dept_id: 6, name: '小组', parent_id: 5 }, { push: false });
    await r.dt.pushEvent('org_dept_create', { deptIds: [4, 5, 6] });
    await r.settle();
    r.wc.seedDept({ id: 9000, name: '小组', parentid: 4 }); // WeCom-only, in the way of 6's move
    r.dt.updateDept(6, { parent_id: 4 });
    r.dt.removeDept(5);
    await r.settle();
    const blocked = await r.store.get('dept', '5');
    expect(blocked).toMatchObject({
      status: 'blocked',
      lastError: expect.stringMatching(/departments whose own sync failed: 6\. What the sync owns moves out/),
    });
    expect(blocked?.lastError).not.toMatch(/does not own/);
    expect((await r.store.get('dept', '6'))?.blocking).toEqual(['5']);

    r.dt.updateDept(6, { name: '小组二' }); // the clash is gone: 6 moves
    await r.settle();
    expect(r.wc.getDept(6)).toMatchObject({ name: '小组二', parentid: 4 });
    expect(r.wc.getDept(5)).toBeUndefined();
  });
});

describe('conflicts caused only by ordering', () => {
  it('moving a department under its former child converges within the event flow, whichever event comes first', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('org_dept_create', { deptIds: [2, 3] });
    await r.settle();
    r.dt.updateDept(3, { parent_id: 1 }, { push: false });
    r.dt.updateDept(2, { parent_id: 3 }, { push: false });

    await r.dt.pushEvent('org_dept_modify', { deptIds: [2] }); // the parent's event arrives first
    await r.settle();
    await r.dt.pushEvent('org_dept_modify', { deptIds: [3] });
    await r.settle();
    expect(r.wc.getDept(3)?.parentid).toBe(1);
    expect(r.wc.getDept(2)?.parentid).toBe(3);
    expect(await r.store.get('dept', '2')).toMatchObject({ status: 'synced' });
  });

  it('swapping two sibling names converges within the event flow', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('org_dept_create', { deptIds: [2, 4] });
    await r.settle();
    r.dt.updateDept(2, { name: '市场部' });
    r.dt.updateDept(4, { name: '研发部' });
    await r.settle();
    expect(r.wc.getDept(2)?.name).toBe('市场部');
    expect(r.wc.getDept(4)?.name).toBe('研发部');
    expect(await r.store.get('dept', '2')).toMatchObject({ status: 'synced' });
    expect(await r.store.get('dept', '4')).toMatchObject({ status: 'synced' });
  });

  // Two workers handle the two sides of a swap at once (different FIFO groups run in parallel).
  // The one freeing a name renames the holder only under the holder's lease and from its record
  // as it is then: here the other worker's message finds that lease taken (and would be retried),
  // and no temporary name is ever left behind in WeCom while the store says otherwise.
  it('swapping two sibling names in two workers at once never leaves a temporary name, even after a reconcile', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('org_dept_create', { deptIds: [2, 4] });
    await r.settle();
    r.dt.updateDept(2, { name: '市场部' }, { push: false });
    r.dt.updateDept(4, { name: '研发部' }, { push: false });

    let once = false;
    const wecom = withCalls(r.wecom, {
      updateDept: async (p) => {
        if (!once && p.name?.includes('~')) {
          once = true; // the first worker is about to rename the holder: the second handles dept 4 meanwhile
          await r.sync.handle(deptMessage(r.dt.corpId, 4));
        }
        return r.wecom.updateDept(p);
      },
    });
    await (r.deps({ wecom }).sync as EntitySync).handle(deptMessage(r.dt.corpId, 2));
    await r.settle();
    await r.reconcile();

    expect(r.wc.getDept(2)?.name).toBe('市场部');
    expect(r.wc.getDept(4)?.name).toBe('研发部');
  }, 30_000);

  it('swapping two sibling names is repaired by one reconcile, and a second plans nothing', async () => {
    const r = await rigs.start();
    await r.reconcile();
    r.dt.pushEnabled = false;
    r.dt.updateDept(2, { name: '市场部' });
    r.dt.updateDept(4, { name: '研发部' });

    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(r.wc.getDept(2)?.name).toBe('市场部');
    expect(r.wc.getDept(4)?.name).toBe('研发部');
    expect(opsOf(await r.reconcile())).toEqual([]);
  });
});

describe('department order', () => {
  // DingTalk lists the smaller department order first, WeCom the larger one.
  const wecomFirst = (r: { wc: { getDept(id: number): { order: number } | undefined } }, a: number, b: number) =>
    r.wc.getDept(a)!.order > r.wc.getDept(b)!.order;

  it('a change of order alone reaches WeCom from the event, and a reconcile neither undoes it nor plans anything', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('org_dept_create', { deptIds: [2, 3, 4] });
    await r.settle();
    expect(wecomFirst(r, 2, 4)).toBe(true); // 研发部 (order 1) before 市场部 (order 2)
    // The rest of the organisation through events too (the manager first), so that the reconcile
    // below has nothing left to import and any operation it plans is about the order.
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await r.settle();
    await r.dt.pushEvent('user_add_org', { userIds: ['zhangsan', 'wangwu'] });
    await r.settle();

    r.dt.updateDept(2, { order: 3 });
    r.dt.updateDept(4, { order: 0 });
    await r.settle();
    expect(wecomFirst(r, 4, 2)).toBe(true);

    expect(opsOf(await r.reconcile())).toEqual([]);
    expect(wecomFirst(r, 4, 2)).toBe(true);
  });

  it('a first import gives departments their DingTalk order (read with department/get: the listing has none), and a second run plans nothing', async () => {
    const r = await rigs.start();
    await r.reconcile();
    expect(opsOf(await r.reconcile())).toEqual([]);
    expect(wecomFirst(r, 2, 4)).toBe(true); // 研发部 (order 1) before 市场部 (order 2)
  });

  it('after a reconcile import, order events reach WeCom and later reconciles do not flip them back', async () => {
    const r = await rigs.start();
    await r.reconcile();
    r.dt.updateDept(2, { order: 3 });
    r.dt.updateDept(4, { order: 0 });
    await r.settle();
    expect(wecomFirst(r, 4, 2)).toBe(true);

    for (let run = 0; run < 2; run++) {
      expect(opsOf(await r.reconcile())).toEqual([]);
      expect(wecomFirst(r, 4, 2)).toBe(true);
    }
  });
});

describe('a department that cannot be created', () => {
  it('a sibling name clash with a WeCom-only department: the person is created in the departments that can exist, the failure is recorded on the department, and one reconcile completes the person once the clash is gone', async () => {
    const r = await rigs.start();
    r.wc.seedDept({ id: 9000, name: '市场部', parentid: 1 });
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await r.settle();

    expect(r.wc.getUser('lisi')).toMatchObject({ enable: 1, department: [2] });
    expect(await r.store.get('dept', '4')).toMatchObject({ status: 'failed', lastErrcode: 60008 });

    r.wc.updateDeptByHand(9000, { name: '市场部（旧）' });
    await r.reconcile();
    expect(r.wc.getUser('lisi')?.department.sort()).toEqual([2, 4]);
    expect(opsOf(await r.reconcile())).toEqual([]);
  });

  it('the person is completed from the event flow once the department can be created (here: renamed in DingTalk)', async () => {
    const r = await rigs.start();
    r.wc.seedDept({ id: 9000, name: '市场部', parentid: 1 });
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await r.settle();

    r.dt.updateDept(4, { name: '市场营销部' }); // the clash is gone with the new name
    await r.settle();
    expect(r.wc.getDept(4)?.name).toBe('市场营销部');
    expect(r.wc.getUser('lisi')?.department.sort()).toEqual([2, 4]);
  });

  it('a truncation clash (two names equal in their first 64 characters): the person is created in their other department', async () => {
    const r = await rigs.start();
    const long = '很长的部门名称'.repeat(10); // 70 characters
    r.dt.addDept({ dept_id: 7, name: `${long}甲`, parent_id: 1 }, { push: false });
    r.dt.addDept({ dept_id: 8, name: `${long}乙`, parent_id: 1 }, { push: false });
    await r.dt.pushEvent('org_dept_create', { deptIds: [7] });
    await r.settle();

    r.dt.addUser({ userid: 'zhouba', name: '周八', mobile: '13800000008', dept_id_list: [8, 4] });
    await r.settle();
    expect(r.wc.getUser('zhouba')).toMatchObject({ enable: 1, department: [4] });
    expect(await r.store.get('dept', '8')).toMatchObject({ status: 'failed', lastErrcode: 60008 });
  });

  it('more than 15 levels (81002): the person is created in their other department', async () => {
    const r = await rigs.start();
    // 100 is level 2 below DingTalk's root; 114 would be WeCom's level 16.
    r.dt.seed({ depts: Array.from({ length: 15 }, (_, i) => ({ dept_id: 100 + i, name: `层${i + 2}`, parent_id: i === 0 ? 1 : 99 + i })) });
    r.dt.addUser({ userid: 'sunjiu', name: '孙九', mobile: '13800000009', dept_id_list: [4, 114] });
    await r.settle();

    expect(r.wc.getUser('sunjiu')).toMatchObject({ enable: 1, department: [4] });
    expect(r.wc.getDept(113)).toBeDefined();
    expect(await r.store.get('dept', '114')).toMatchObject({ status: 'failed', lastErrcode: 81002 });
  });
});

describe('a deleted department whose re-creation failed', () => {
  it('keeps no WeCom id that no longer exists, so its members are still updated in their other departments (no 60123)', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi', 'wangwu'] });
    await r.settle();
    // An administrator empties and deletes 市场部 in WeCom, and makes a 营销部 of their own.
    r.wc.updateUserByHand('lisi', { department: [2] });
    r.wc.updateUserByHand('wangwu', { department: [1] });
    r.wc.removeDeptByHand(4);
    r.wc.seedDept({ id: 9000, name: '营销部', parentid: 1 });
    r.dt.updateDept(4, { name: '营销部' }); // the re-creation clashes (60008)
    await r.settle();

    const dept = await r.store.get('dept', '4');
    expect(dept?.wecomId === undefined || r.wc.getDept(Number(dept.wecomId)) !== undefined).toBe(true);

    r.dt.updateUser('lisi', { title: '新职位' });
    await r.settle();
    expect((await r.store.get('user', 'lisi'))?.lastErrcode).not.toBe(60123);
    expect(r.wc.getUser('lisi')).toMatchObject({ position: '新职位', department: [2] });
  });
});

describe('a create whose id WeCom assigns', () => {
  // The create failed retryably before reaching WeCom; by the retry (after the visibility
  // timeout) an administrator made a department of the same name under the same parent. The
  // retry's 60008 must not take that department as the one its first try made.
  it('retried after a WeCom-only department of the same name appeared, never takes that department', async () => {
    const r = await rigs.start();
    const big = 3_000_000_000; // beyond WeCom's ids: WeCom assigns one
    r.dt.addDept({ dept_id: big, name: '大号部门', parent_id: 1 }, { push: false });
    r.wc.failNext('department/create', -1); // refused: nothing was created
    await r.dt.pushEvent('org_dept_create', { deptIds: [big] });
    await r.dt.idle();
    expect((await runOneBatch(r.queue, r.process))?.response.batchItemFailures).toHaveLength(1);

    const handmade = r.wc.seedDept({ name: '大号部门', parentid: 1 });
    r.wc.seedUser({ userid: 'handmade', name: '手工', department: [handmade], mobile: '+86 13700000000' });
    await r.settle();
    r.dt.updateDept(big, { name: '改名部门' });
    await r.settle();

    expect((await r.store.get('dept', String(big)))?.wecomId).not.toBe(String(handmade));
    expect(r.wc.getDept(handmade)?.name).toBe('大号部门');
  });
});
