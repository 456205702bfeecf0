/**
 * Ownership: the sync changes only what it created or deliberately adopted. A WeCom object that
 * merely looks like ours (a userid equal ignoring case, a department id under another parent) is
 * never taken over; one the sync did create is never left behind as an orphan.
 */
import { describe, expect, it } from 'vitest';
import type { EntityState, StateStore } from '../../lib/ports';
import { opsOf, rigLifecycle } from './rig';

const rigs = rigLifecycle();

/** Makes the store lose the first write that would record `userid` as synced (a crash, a lost write). */
function loseSyncedWrite(store: StateStore, userid: string, onLost: () => void = () => undefined): void {
  const put = store.put.bind(store);
  let lost = false;
  store.put = async (state: Omit<EntityState, 'version'>, opts?: { ifVersion?: number }) => {
    if (!lost && state.kind === 'user' && state.id === userid && state.status === 'synced') {
      lost = true;
      onLost();
      throw new Error('state write lost');
    }
    return put(state, opts);
  };
}

describe('userids that differ only in case', () => {
  it('are never adopted: the second person is a permanent conflict named in the state, and the first keeps their name, mobile, departments and account', async () => {
    const r = await rigs.start();
    r.dt.addUser({ userid: 'Abc', name: '大写', mobile: '13900000001', dept_id_list: [2] });
    await r.settle();
    r.dt.addUser({ userid: 'abc', name: '小写', mobile: '13900000002', dept_id_list: [4] });
    await r.settle();

    expect(r.wc.getUser('Abc')).toMatchObject({ userid: 'Abc', name: '大写', mobile: '+86 13900000001', department: [2], enable: 1 });
    const conflict = await r.store.get('user', 'abc');
    expect(conflict?.owned).not.toBe(true);
    expect(conflict?.status).not.toBe('synced');
    expect(conflict?.lastError).toMatch(/Abc/);

    r.dt.removeUser('abc');
    await r.settle();
    expect(r.wc.getUser('Abc')?.enable).toBe(1);
  });

  it('a reconcile does not adopt a case-only match either, and names the conflict in its report', async () => {
    const r = await rigs.start();
    r.dt.addUser({ userid: 'Abc', name: '大写', mobile: '13900000001', dept_id_list: [2] });
    await r.settle();
    r.dt.pushEnabled = false;
    r.dt.addUser({ userid: 'abc', name: '小写', mobile: '13900000002', dept_id_list: [4] });

    const run = await r.reconcile();
    expect(r.wc.getUser('Abc')).toMatchObject({ userid: 'Abc', name: '大写', mobile: '+86 13900000001', department: [2], enable: 1 });
    expect(run.report.errors).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'user', id: 'abc', message: expect.stringMatching(/Abc/) })]));
    expect((await r.store.get('user', 'abc'))?.owned).not.toBe(true);
  });

  it('a standing case conflict, the only operation of a run, makes every run partial (reported, not a failure of the run)', async () => {
    const r = await rigs.start();
    await r.reconcile();
    r.wc.seedUser({ userid: 'Abc', name: '大写', department: [1], mobile: '+86 13900000001' });
    r.dt.pushEnabled = false;
    r.dt.addUser({ userid: 'abc', name: '小写', mobile: '13900000002', dept_id_list: [4] });
    for (let run = 0; run < 2; run++) {
      const result = await r.reconcile();
      expect(opsOf(result)).toEqual(['conflict_user abc']);
      expect(result.report).toMatchObject({ status: 'partial', counts: { conflict_user: 1 } });
      expect(result.report.errors).toEqual([expect.objectContaining({ id: 'abc', op: 'conflict_user', message: expect.stringMatching(/Abc/) })]);
    }
  });
});

describe('adopting departments', () => {
  it('the reconcile adopts a WeCom department with the DingTalk id only under the same parent: a hand-made one elsewhere and its WeCom-only member are left alone', async () => {
    const r = await rigs.start();
    r.wc.seedDept({ id: 3, name: '手工部门', parentid: 1 }); // DingTalk's 3 lives under 2
    r.wc.seedUser({ userid: 'handmade', name: '手工', department: [3], mobile: '+86 13700000000' });

    const run = await r.reconcile();
    expect(opsOf(run)).not.toContain('adopt_dept 3');
    expect(r.wc.getDept(3)).toMatchObject({ name: '手工部门', parentid: 1 });
    expect(r.wc.getUser('handmade')).toMatchObject({ name: '手工', department: [3], enable: 1 });
    const mapped = Number((await r.store.get('dept', '3'))?.wecomId);
    expect(mapped).not.toBe(3);
    expect(r.wc.getDept(mapped)).toMatchObject({ name: '后端组', parentid: 2 });
    expect(r.wc.getUser('zhangsan')?.department).toEqual([mapped]);
  });
});

describe('a create whose state write was lost', () => {
  it('the claim taken before the create makes the account the sync’s own: when the person then leaves, the account is disabled', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('org_dept_create', { deptIds: [2, 3] });
    await r.settle();
    // The person leaves right after the WeCom create, before the state write that was lost is retried.
    loseSyncedWrite(r.store, 'zhangsan', () => r.dt.removeUser('zhangsan'));
    await r.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await r.settle();

    expect(r.wc.getUser('zhangsan')?.enable).toBe(0);
    expect(await r.store.get('user', 'zhangsan')).toMatchObject({ owned: true, status: 'disabled' });
  });

  it('the same after a reconcile whose state write was lost: the next reconcile disables the leaver', async () => {
    const r = await rigs.start();
    loseSyncedWrite(r.store, 'wangwu');
    await r.reconcile();
    expect(r.wc.getUser('wangwu')?.enable).toBe(1); // created; only the state write was lost
    r.dt.pushEnabled = false;
    r.dt.removeUser('wangwu');

    await r.reconcile();
    expect(r.wc.getUser('wangwu')?.enable).toBe(0);
    expect(await r.store.get('user', 'wangwu')).toMatchObject({ owned: true, status: 'disabled' });
  });
});
