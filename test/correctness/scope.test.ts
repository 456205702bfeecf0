/**
 * Scope: which DingTalk departments the sync follows is judged on a department's whole ancestor
 * chain against SYNC_ROOT_DEPT_IDS / SYNC_EXCLUDE_DEPT_IDS, the same way by the worker, the plan
 * and the reconcile. Leaving the scope converges in one run; a second run plans nothing. Coming
 * back brings back from the event flow what left with a department.
 */
import { describe, expect, it } from 'vitest';
import type { EntitySync } from '../../lib/sync/entity';
import { opsOf, rigLifecycle } from './rig';

const rigs = rigLifecycle();

describe('leaving the sync scope converges in one run', () => {
  it('roots narrowed from [1] to [2]: people keep only their in-scope departments, a person with none left is disabled, the department left behind is emptied and deleted, and a second run plans nothing', async () => {
    const r = await rigs.start();
    expect((await r.reconcile()).report.status).toBe('success');

    const narrowed = { env: { SYNC_ROOT_DEPT_IDS: '2' } };
    const run = await r.reconcile({}, narrowed);
    expect(run.report.errors).toEqual([]);
    expect(run.report.status).toBe('success');
    expect(r.wc.getUser('lisi')).toMatchObject({ enable: 1, department: [2] });
    expect(r.wc.getUser('wangwu')).toMatchObject({ enable: 0 });
    expect(await r.store.get('user', 'wangwu')).toMatchObject({ status: 'disabled' });
    expect(r.wc.getDept(4)).toBeUndefined();
    expect(await r.store.get('dept', '4')).toMatchObject({ status: 'deleted' });

    const second = await r.reconcile({}, narrowed);
    expect(opsOf(second)).toEqual([]);
    expect(second.report.status).toBe('success');
  });

  it('a parent excluded: its whole subtree leaves, the people only in it are disabled, both departments are deleted in one run, and a second run plans nothing', async () => {
    const r = await rigs.start();
    expect((await r.reconcile()).report.status).toBe('success');

    const excluded = { env: { SYNC_EXCLUDE_DEPT_IDS: '2' } };
    const run = await r.reconcile({}, excluded);
    expect(run.report.errors).toEqual([]);
    expect(run.report.status).toBe('success');
    expect(r.wc.getUser('zhangsan')).toMatchObject({ enable: 0 }); // only in 3, below the excluded 2
    expect(await r.store.get('user', 'zhangsan')).toMatchObject({ status: 'disabled' });
    expect(r.wc.getUser('lisi')).toMatchObject({ enable: 1, department: [4] });
    expect(r.wc.getDept(3)).toBeUndefined();
    expect(r.wc.getDept(2)).toBeUndefined();

    const second = await r.reconcile({}, excluded);
    expect(opsOf(second)).toEqual([]);
    expect(second.report.status).toBe('success');
  });

  it('a department moved in DingTalk out of the scope is emptied and deleted by one reconcile, its people disabled, and a second run plans nothing', async () => {
    const r = await rigs.start({ SYNC_ROOT_DEPT_IDS: '2' });
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi', 'zhangsan'] });
    await r.settle();
    expect(r.wc.getUser('zhangsan')?.department).toEqual([3]);

    r.dt.updateDept(3, { parent_id: 4 }); // 4 is outside the root 2
    await r.settle();
    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(run.report.status).toBe('success');
    expect(r.wc.getUser('zhangsan')).toMatchObject({ enable: 0 });
    expect(r.wc.getDept(3)).toBeUndefined();
    expect(await r.store.get('dept', '3')).toMatchObject({ status: 'deleted' });

    const second = await r.reconcile();
    expect(opsOf(second)).toEqual([]);
  });

  it('the worker judges scope the same way: after the roots narrow, a person whose departments all left is handled by the leave policy, and another keeps only the in-scope ones', async () => {
    const r = await rigs.start();
    await r.reconcile();
    const sync = r.deps({ env: { SYNC_ROOT_DEPT_IDS: '2' } }).sync as EntitySync;
    const message = (id: string) => ({ kind: 'user' as const, id, eventType: 'user_modify_org', eventTime: Date.now(), corpId: r.dt.corpId });

    const wangwu = await sync.handle(message('wangwu'));
    expect(wangwu.result).toBe('disabled');
    expect(r.wc.getUser('wangwu')?.enable).toBe(0);

    await sync.handle(message('lisi'));
    expect(r.wc.getUser('lisi')).toMatchObject({ enable: 1, department: [2] });
  });

  // With DingTalk's root excluded the scan starts from no root; the worker must not place people
  // of dept 1 in WeCom's root either, or the reconcile would plan a disable on every run.
  it("DingTalk's root excluded: the worker and the reconcile judge a member of dept 1 alike, and a second reconcile plans nothing", async () => {
    const r = await rigs.start({ SYNC_ROOT_DEPT_IDS: '1', SYNC_EXCLUDE_DEPT_IDS: '1' });
    r.dt.addUser({ userid: 'boss', name: '老板', mobile: '13912345678', dept_id_list: [1] });
    await r.settle();
    await r.reconcile();
    const second = await r.reconcile();
    expect(opsOf(second)).toEqual([]);
    expect(r.wc.getUser('boss')?.enable ?? 0).toBe(0); // everything is excluded: boss is no active member
  });
});

describe('coming back into the scope', () => {
  // DingTalk sends no user event for the members of a department that moves back: the department
  // remembers the members and child departments it shed on the way out.
  it('a department moved out of the scope and back in: the members it disabled on the way out are enabled again from the event flow', async () => {
    const r = await rigs.start({ SYNC_ROOT_DEPT_IDS: '2' });
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi', 'zhangsan'] });
    await r.settle();
    expect(r.wc.getUser('zhangsan')).toMatchObject({ enable: 1, department: [3] });

    r.dt.updateDept(3, { parent_id: 4 }); // out of the root 2
    await r.settle();
    expect(r.wc.getUser('zhangsan')?.enable).toBe(0);

    r.dt.updateDept(3, { parent_id: 2 }); // back in
    await r.settle();
    expect(r.wc.getDept(3)).toMatchObject({ parentid: 2 });
    expect(r.wc.getUser('zhangsan')).toMatchObject({ enable: 1, department: [3] });
  });

  it('a department moved out of the scope and back in with a child department: the child and the members of both come back from the event flow', async () => {
    const r = await rigs.start({ SYNC_EXCLUDE_DEPT_IDS: '4' });
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi', 'zhangsan'] });
    await r.settle();
    expect(r.wc.getUser('lisi')).toMatchObject({ enable: 1, department: [2] });

    r.dt.updateDept(2, { parent_id: 4 }); // under the excluded 4: 2 and its child 3 leave
    await r.settle();
    expect([r.wc.getDept(2), r.wc.getDept(3)]).toEqual([undefined, undefined]);
    expect([r.wc.getUser('lisi')?.enable, r.wc.getUser('zhangsan')?.enable]).toEqual([0, 0]);

    r.dt.updateDept(2, { parent_id: 1 }); // back: DingTalk sends this department's event only
    await r.settle();
    expect(r.wc.getDept(3)).toMatchObject({ parentid: 2 });
    expect(r.wc.getUser('lisi')).toMatchObject({ enable: 1, department: [2] });
    expect(r.wc.getUser('zhangsan')).toMatchObject({ enable: 1, department: [3] });
    expect(opsOf(await r.reconcile())).toEqual([]);
  });
});

describe("the DingTalk app's visible range", () => {
  it('a department the app cannot see (50004) is a configuration problem, never a departure: its member stays enabled, event or reconcile', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await r.settle();
    r.dt.addDept({ dept_id: 6, name: '保密部', parent_id: 1 }, { push: false });
    r.dt.setDeptOutOfScope(6, true, { push: false });

    r.dt.updateUser('zhangsan', { dept_id_list: [6] });
    await r.settle();
    expect(r.wc.getUser('zhangsan')?.enable).toBe(1);
    expect((await r.store.get('user', 'zhangsan'))?.status).not.toBe('disabled');

    await r.reconcile({ allowDeletes: true });
    expect(r.wc.getUser('zhangsan')?.enable).toBe(1);
    expect((await r.store.get('user', 'zhangsan'))?.status).not.toBe('disabled');
  });
});
