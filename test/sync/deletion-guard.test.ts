import { describe, expect, it } from 'vitest';
import type { DingTalkUser, EntityState } from '../../lib/ports';
import { deletionGuard } from '../../lib/sync/deletion-guard';
import { planReconcile } from '../../lib/sync/plan';

describe('the deletion guard stops a run that would remove too much of what the sync owns', () => {
  const plan = (userRemovals: number, ownedUsers: number, deptRemovals = 0, ownedDepts = 100) => ({
    ops: [],
    userRemovals,
    ownedUsers,
    deptRemovals,
    ownedDepts,
  });
  it.each([
    [plan(5, 6), false, 'up to the floor of 5 is always allowed'],
    [plan(6, 10), true, '60% of 10'],
    [plan(20, 100), false, 'exactly 20%'],
    [plan(21, 100), true, 'just over 20%'],
    [plan(0, 100, 21, 100), true, 'departments count too'],
  ])('%o → blocked %s (%s)', (p, blocked) => {
    expect(deletionGuard(p, 0.2, false).blocked).toBe(blocked);
  });
  it('judges against the users the policy can still remove, not leavers disabled earlier', () => {
    // 10 active owned users, 40 disabled long ago; DingTalk still lists a0-a3, so a4-a9 left.
    const owned = (id: string, status: EntityState['status']): EntityState => ({
      kind: 'user',
      id,
      wecomId: id,
      owned: true,
      status,
      updatedAt: 1,
      version: 1,
    });
    const userStates = [...Array.from({ length: 10 }, (_, i) => owned(`a${i}`, 'synced')), ...Array.from({ length: 40 }, (_, i) => owned(`d${i}`, 'disabled'))];
    const stayers: DingTalkUser[] = ['a0', 'a1', 'a2', 'a3'].map((id) => ({ userid: id, name: id, mobile: '13800000000', dept_id_list: [1] }));
    const plan = (onLeave: 'disable' | 'delete') =>
      planReconcile({
        dingtalkDepts: [],
        dingtalkUsers: stayers,
        deptStates: [],
        userStates,
        wecomDepts: [{ id: 1, parentid: 0 }],
        wecomUserDepts: [],
        config: { onLeave, rootDeptIds: [1], excludeDeptIds: [], toInvite: false },
      });
    const disabling = plan('disable');
    expect([disabling.userRemovals, disabling.ownedUsers]).toEqual([6, 10]); // 60%, not 6 of 50 = 12%
    expect(deletionGuard(disabling, 0.2, false).blocked).toBe(true);
    // Under `delete` the disabled ones are removed too, so they count on both sides.
    const deleting = plan('delete');
    expect([deleting.userRemovals, deleting.ownedUsers]).toEqual([46, 50]);
  });

  it('is overridden by allowDeletes, and explains itself when it blocks', () => {
    expect(deletionGuard(plan(50, 100), 0.2, true).blocked).toBe(false);
    expect(deletionGuard(plan(50, 100), 0.2, false).reason).toMatch(/50 of 100 owned users.*--allow-deletes/);
  });
});
