/**
 * Review 8, scope: sequences the scope fixes did not consider. Each test fails on main.
 */
import { describe, expect, it } from 'vitest';
import { opsOf, rigLifecycle } from '../correctness/rig';

const rigs = rigLifecycle();

describe('scope, review 8', () => {
  // Severity: medium. The department's own event disabled its members when it left the scope;
  // when it comes back nothing re-enables them (DingTalk sends no user event for them), so an
  // administrator's brief wrong move disables everyone in the subtree until the daily reconcile.
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
    expect(r.wc.getUser('zhangsan')).toMatchObject({ enable: 1, department: [3] }); // fails: enable 0, department [1]
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

  // Severity: medium (a configuration edge, but the README promises one judge). With DingTalk's
  // root excluded, the worker still places people of dept 1 in WeCom's root (DeptSync.place checks
  // isRootMappedToWeComRoot before the chain judge), while the scan starts from no root: the
  // reconcile plans disable_user on every run, its syncUser re-applies the worker's verdict and
  // counts the op as done, and the person stays enabled. The plan never empties.
  it('DingTalk root excluded: the worker and the reconcile judge a member of dept 1 alike, and a second reconcile plans nothing', async () => {
    const r = await rigs.start({ SYNC_ROOT_DEPT_IDS: '1', SYNC_EXCLUDE_DEPT_IDS: '1' });
    r.dt.addUser({ userid: 'boss', name: '老板', mobile: '13912345678', dept_id_list: [1] });
    await r.settle();
    await r.reconcile();
    const second = await r.reconcile();
    expect(opsOf(second)).toEqual([]); // fails: ['disable_user boss'] on every run
    expect(r.wc.getUser('boss')?.enable ?? 0).toBe(0); // everything is excluded: boss must not be an active member
  });
});
