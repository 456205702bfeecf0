/**
 * Removing a department WeCom will not delete while it holds something: the sync empties it of
 * what it owns, and records the rest as blocking, never touching it and never retrying on the
 * queue for it.
 */
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../lib/errors';
import { FileStateStore } from '../../lib/local/file-store';
import type { WeComDeptRef, WeComDirectory, WeComUserDeptRow } from '../../lib/ports';
import { DeptOperations } from '../../lib/sync/dept-context';

const operations = new DeptOperations();
const inDeptContext = operations.run.bind(operations);

import { DeptRemoval } from '../../lib/sync/dept-removal';
import { EntityStateBook } from '../../lib/sync/entity-state';
import { WECOM_ERR } from '../../lib/wecom/errors';
import { sandboxSync } from './sandbox-sync';

const setup = sandboxSync();

describe('a department that cannot be emptied', () => {
  it('is blocked by a member the sync does not own: recorded naming it, acknowledged (not thrown), the member untouched', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncUser('wangwu');
    wc.seedUser({ userid: 'handmade', name: '手工', department: [4], mobile: '+86 13700000000' });
    dt.updateUser('wangwu', { dept_id_list: [2] }, { push: false });
    dt.updateUser('lisi', { dept_id_list: [2] }, { push: false });
    dt.removeDept(4, { push: false });

    const outcome = await sync.syncDept(4);
    expect(outcome).toMatchObject({ result: 'failed', errcode: WECOM_ERR.deptHasMembers, message: expect.stringMatching(/not own: handmade/) });
    expect(wc.getUser('wangwu')?.department).toEqual([2]); // what the sync owns was moved on the way
    expect(wc.getUser('handmade')).toMatchObject({ name: '手工', department: [4], enable: 1 });
    expect(await store.get('dept', '4')).toMatchObject({ status: 'blocked', owned: true, wecomId: '4', blockedBy: { users: ['handmade'], depts: [] } });
  });

  it('is blocked by a child department the sync does not own', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncDept(4);
    const child = wc.seedDept({ name: '手工组', parentid: 4 });
    dt.updateUser('wangwu', { dept_id_list: [2] }, { push: false });
    dt.updateUser('lisi', { dept_id_list: [2] }, { push: false });
    dt.removeDept(4, { push: false });
    expect(await sync.syncDept(4)).toMatchObject({ result: 'failed', errcode: WECOM_ERR.deptHasChildren });
    expect(await store.get('dept', '4')).toMatchObject({ status: 'blocked', blockedBy: { users: [], depts: [child] } });
    expect(wc.getDept(child)).toBeDefined();
  });

  it('deletes the children it owns first, children before parents', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncDept(3);
    dt.updateUser('zhangsan', { dept_id_list: [4] }, { push: false });
    dt.updateUser('lisi', { dept_id_list: [4] }, { push: false });
    dt.removeDept(3, { push: false });
    dt.removeDept(2, { push: false });
    expect(await sync.syncDept(2)).toMatchObject({ result: 'deleted' });
    expect(wc.getDept(3)).toBeUndefined();
    expect((await store.get('dept', '3'))?.status).toBe('deleted');
  });

  it('is blocked by an owned member whose own write failed for good, and that member’s next successful write deletes it', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncUser('wangwu');
    wc.failNext('user/update', WECOM_ERR.badName);
    dt.updateUser('wangwu', { dept_id_list: [2] }, { push: false });
    dt.updateUser('lisi', { dept_id_list: [2] }, { push: false });
    dt.removeDept(4, { push: false });
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'failed', errcode: WECOM_ERR.badName });

    expect(await sync.syncDept(4)).toMatchObject({ result: 'failed', message: expect.stringMatching(/sync failed: wangwu/) });
    expect(await store.get('dept', '4')).toMatchObject({ status: 'blocked', blockedBy: { users: ['wangwu'], depts: [] } });
    expect(await store.get('user', 'wangwu')).toMatchObject({ status: 'failed', blocking: ['4'] });

    dt.updateUser('wangwu', { title: '新职位' }, { push: false });
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'updated' });
    expect(wc.getDept(4)).toBeUndefined();
    expect((await store.get('dept', '4'))?.status).toBe('deleted');
    expect((await store.get('user', 'wangwu'))?.blocking).toBeUndefined();
  });

  it('throws a retryable failure of a member’s move for the queue, rather than calling the department blocked', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncUser('wangwu');
    dt.updateUser('wangwu', { dept_id_list: [2] }, { push: false });
    dt.updateUser('lisi', { dept_id_list: [2] }, { push: false });
    dt.removeDept(4, { push: false });
    wc.failNext('user/update', WECOM_ERR.systemBusy);
    await expect(sync.syncDept(4)).rejects.toMatchObject({ errcode: WECOM_ERR.systemBusy, failure: 'retryable' });
    expect((await store.get('dept', '4'))?.status).toBe('synced');
    expect(await sync.syncDept(4)).toMatchObject({ result: 'deleted' });
  });

  it('keeps a blocked department that comes back into DingTalk’s scope, as synced', async () => {
    const { wc, store, sync, syncWith } = await setup();
    await sync.syncDept(4);
    wc.seedUser({ userid: 'handmade', name: '手工', department: [4], mobile: '+86 13700000000' });
    expect(await syncWith({ excludeDeptIds: [4] }).syncDept(4)).toMatchObject({ result: 'failed' });
    expect((await store.get('dept', '4'))?.status).toBe('blocked');
    expect(await sync.syncDept(4)).toMatchObject({ result: 'updated', wecomId: '4' });
    expect(await store.get('dept', '4')).toMatchObject({ status: 'synced', wecomId: '4' });
  });
});

describe('DeptRemoval on its own (a scripted WeCom)', () => {
  const refusal = (errcode: number, failure: PlatformError['failure'] = 'permanent') =>
    new PlatformError('wecom', 'department/delete', errcode, 'refused', failure);

  async function removal(deleteAnswers: (PlatformError | undefined)[], contents: { users: WeComUserDeptRow[]; depts: WeComDeptRef[] }) {
    const store = new FileStateStore(undefined);
    const states = new EntityStateBook({ store, clock: { now: () => 1 } });
    await store.put({ kind: 'dept', id: '4', owned: true, wecomId: '4', status: 'synced', updatedAt: 0 });
    const wecom = {
      deleteDept: async () => {
        const answer = deleteAnswers.shift();
        if (answer) throw answer;
      },
      listUserDepts: async () => contents.users,
      listDepts: async () => contents.depts,
    } as unknown as WeComDirectory;
    const synced: string[] = [];
    const r = new DeptRemoval({
      operations,
      wecom,
      states,
      syncUser: async (id) => {
        synced.push(id);
        return { kind: 'user', id, result: 'unchanged' };
      },
      syncDept: async (id) => ({ kind: 'dept', id: String(id), result: 'unchanged' }),
    });
    const leave = () => inDeptContext(async (ctx) => r.leave(ctx, 4, await store.get('dept', '4'), 'no longer exists in DingTalk'));
    return { store, leave, synced };
  }

  it('throws a refusal that is not about what the department holds, as any write failure (here a configuration error)', async () => {
    const { leave, store } = await removal([refusal(WECOM_ERR.untrustedIp, 'configuration')], { users: [], depts: [] });
    await expect(leave()).rejects.toMatchObject({ errcode: WECOM_ERR.untrustedIp });
    expect((await store.get('dept', '4'))?.status).toBe('synced');
  });

  it('leaves the message to be retried when WeCom refused but nothing is left inside by the time it looks', async () => {
    const { leave, store, synced } = await removal([refusal(WECOM_ERR.deptHasMembers), refusal(WECOM_ERR.deptHasMembers)], { users: [], depts: [] });
    await expect(leave()).rejects.toMatchObject({ errcode: WECOM_ERR.deptHasMembers });
    expect(synced).toEqual([]);
    expect((await store.get('dept', '4'))?.status).toBe('synced');
  });

  it('records a failure of the second attempt that is not about contents as a write failure', async () => {
    const { leave, store } = await removal([refusal(WECOM_ERR.deptHasMembers), refusal(WECOM_ERR.invalidDeptId)], { users: [], depts: [] });
    expect(await leave()).toMatchObject({ result: 'failed', errcode: WECOM_ERR.invalidDeptId });
    expect((await store.get('dept', '4'))?.status).toBe('failed');
  });
});
