/**
 * Placing a person: one department that cannot be placed never blocks the others, never makes the
 * person a leaver, and the person is completed from the event flow once it can be placed.
 */
import { describe, expect, it } from 'vitest';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { WECOM_ERR } from '../../lib/wecom/errors';
import { sandboxSync } from './sandbox-sync';

const setup = sandboxSync();

describe('a department WeCom refuses to create', () => {
  it('the person is created in the others, and completed by that department’s own message once it can be created', async () => {
    const { dt, wc, store, sync } = await setup();
    const foreign = wc.seedDept({ id: 9000, name: '市场部', parentid: 1 });
    expect(await sync.syncUser('lisi')).toMatchObject({ result: 'created' });
    expect(wc.getUser('lisi')?.department).toEqual([2]);
    expect(await store.get('dept', '4')).toMatchObject({ status: 'failed', lastErrcode: WECOM_ERR.deptExists, waitingUsers: ['lisi'] });

    dt.updateDept(4, { name: '市场营销部' }, { push: false }); // the clash is gone with the new name
    expect(await sync.syncDept(4)).toMatchObject({ result: 'created' });
    expect(wc.getDept(foreign)?.name).toBe('市场部');
    expect(wc.getUser('lisi')?.department.sort()).toEqual([2, 4]);
    expect((await store.get('dept', '4'))?.waitingUsers).toBeUndefined();
  });

  it('waits on the ancestor that failed, and is completed when that one is created', async () => {
    const { dt, wc, store, sync } = await setup();
    wc.seedDept({ id: 9000, name: '研发部', parentid: 1 });
    expect(await sync.syncUser('zhangsan')).toMatchObject({ result: 'failed', errcode: WECOM_ERR.deptExists, message: /^cannot place the user: department 3/ });
    expect(wc.getUser('zhangsan')).toBeUndefined();
    expect(await store.get('dept', '2')).toMatchObject({ status: 'failed', waitingUsers: ['zhangsan'] });

    dt.updateDept(2, { name: '研发中心' }, { push: false });
    expect(await sync.syncDept(2)).toMatchObject({ result: 'created' });
    expect(wc.getUser('zhangsan')).toMatchObject({ department: [3], enable: 1 });
  });
});

describe('a department the DingTalk app may not read (50004)', () => {
  it('keeps the person where they were for it: no leaver, and the WeCom department they had is kept', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncUser('lisi');
    dt.setDeptOutOfScope(4, true, { push: false });
    dt.updateUser('lisi', { title: '新职位' }, { push: false });
    expect(await sync.syncUser('lisi')).toMatchObject({ result: 'updated' });
    expect(wc.getUser('lisi')).toMatchObject({ enable: 1, position: '新职位' });
    expect(wc.getUser('lisi')?.department.sort()).toEqual([2, 4]);
    expect((await store.get('user', 'lisi'))?.status).toBe('synced');
  });

  it('a person in no other department is recorded as a configuration problem and left as they are in WeCom', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncUser('zhangsan');
    dt.addDept({ dept_id: 6, name: '保密部', parent_id: 1 }, { push: false });
    dt.setDeptOutOfScope(6, true, { push: false });
    dt.updateUser('zhangsan', { dept_id_list: [6] }, { push: false });
    expect(await sync.syncUser('zhangsan')).toMatchObject({ result: 'failed', errcode: DINGTALK_ERR.deptOutOfScope });
    expect(wc.getUser('zhangsan')).toMatchObject({ enable: 1, department: [3] });
    expect(await store.get('user', 'zhangsan')).toMatchObject({ status: 'synced', lastErrcode: DINGTALK_ERR.deptOutOfScope });
  });
});

describe('a department below one the DingTalk app may not read', () => {
  it('is a configuration problem: nothing is created, deleted or left', async () => {
    const { dt, wc, store, sync } = await setup();
    dt.addDept({ dept_id: 6, name: '保密部', parent_id: 1 }, { push: false });
    dt.addDept({ dept_id: 7, name: '保密组', parent_id: 6 }, { push: false });
    dt.setDeptOutOfScope(6, true, { push: false });
    expect(await sync.syncDept(7)).toMatchObject({ result: 'failed', errcode: DINGTALK_ERR.deptOutOfScope });
    expect(wc.getDept(7)).toBeUndefined();
    expect((await store.get('dept', '7'))?.lastError).toMatch(/ancestor is outside the DingTalk app's visible range/);
  });
});

describe('a department outside the scope', () => {
  it('is dropped from the person’s departments, judged on the chain: an excluded parent takes its subtree out', async () => {
    const { wc, sync, syncWith } = await setup();
    await sync.syncUser('lisi');
    await sync.syncUser('zhangsan');
    const narrowed = syncWith({ excludeDeptIds: [2] });
    expect(await narrowed.syncUser('zhangsan')).toMatchObject({ result: 'disabled' });
    expect(await narrowed.syncUser('lisi')).toMatchObject({ result: 'updated' });
    expect(wc.getUser('lisi')?.department).toEqual([4]);
  });
});
