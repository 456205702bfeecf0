/**
 * End to end: DingTalk simulator HR actions → signed push → callback → queue → worker → WeCom
 * simulator. Every assertion reads the WeCom simulator's stored state or the state store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runOneBatch } from '../../lib/local/worker-loop';
import { dingtalkReads, type SandboxPipeline as Harness, startSandboxPipeline, wecomWrites } from '../../lib/sandbox/pipeline';
import { runReconcile } from '../../lib/sync/reconcile';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(env: Record<string, string> = {}, opts?: Parameters<typeof startSandboxPipeline>[1]): Promise<Harness> {
  h = await startSandboxPipeline(env, opts);
  return h;
}

describe('user events', () => {
  it('user_add_org creates the user and its missing departments, parent first', async () => {
    const { dt, wc, store, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    const batches = await settle();
    expect(batches.flatMap((b) => b.response.batchItemFailures)).toEqual([]);
    expect(wc.getDept(2)).toMatchObject({ name: '研发部', parentid: 1 });
    expect(wc.getDept(3)).toMatchObject({ name: '后端组', parentid: 2 });
    const user = wc.getUser('zhangsan')!;
    expect(user).toMatchObject({ name: '张三', department: [3], mobile: '+86 13800000001', email: 'zhangsan@example.com', position: '后端工程师', enable: 1 });
    expect(wc.invited).not.toContain('zhangsan');
    const state = await store.get('user', 'zhangsan');
    expect(state).toMatchObject({ status: 'synced', owned: true, wecomId: 'zhangsan' });
    expect((await store.get('dept', '3'))?.wecomId).toBe('3');
  });

  it('user_modify_org updates fields, and a move between departments replaces the department list', async () => {
    const { dt, wc, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['zhangsan', 'lisi'] });
    await settle();
    dt.updateUser('zhangsan', { title: '架构师', dept_id_list: [4], dept_order_list: [], leader_in_dept: [{ dept_id: 4, leader: true }] });
    await settle();
    expect(wc.getUser('zhangsan')).toMatchObject({ position: '架构师', department: [4], is_leader_in_dept: [1] });
  });

  it('a manager becomes direct_leader once the manager is synced', async () => {
    const { dt, wc, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await settle();
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    expect(wc.getUser('zhangsan')?.direct_leader).toEqual(['lisi']);
  });

  it('a report announced before their manager gets the reporting line when the manager is synced, with no reconcile', async () => {
    const { dt, wc, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] }); // lisi, her manager, is not in WeCom yet
    await settle();
    expect(wc.getUser('zhangsan')?.direct_leader ?? []).toEqual([]);
    dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await settle();
    expect(wc.getUser('zhangsan')?.direct_leader).toEqual(['lisi']);
  });

  it('user_active_org, org_admin_add and org_admin_remove about an unchanged user cost one read and no write', async () => {
    const { dt, wc, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    for (const type of ['user_active_org', 'org_admin_add', 'org_admin_remove', 'user_modify_org']) {
      dt.resetCalls();
      wc.resetCalls();
      dt.pushEvent(type, { userIds: ['zhangsan'] });
      const batches = await settle();
      expect(batches.flatMap((b) => b.outcomes.map((o) => o.result))).toEqual(['unchanged']);
      expect(dingtalkReads(dt)).toBe(1);
      expect(wecomWrites(wc)).toBe(0);
    }
  });

  it('an event with several ids becomes one message per user', async () => {
    const { dt, wc, queue } = await harness();
    await dt.pushEvent('user_add_org', { userIds: ['zhangsan', 'lisi', 'wangwu'] });
    expect(queue.depth).toBe(3);
    await h!.settle();
    expect(['zhangsan', 'lisi', 'wangwu'].map((id) => wc.getUser(id)?.enable)).toEqual([1, 1, 1]);
    expect(wc.getUser('wangwu')?.email).toBe('wangwu@example.com'); // org_email fallback
  });

  it('duplicates converge: the same user announced twice is written once', async () => {
    const { dt, wc, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    dt.pushEvent('user_modify_org', { userIds: ['zhangsan'] });
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    expect(wc.calls['user/create']).toBe(1);
    expect(wc.calls['user/update'] ?? 0).toBe(0);
  });

  it('a user event that arrives before its department event creates the department; the later event writes nothing', async () => {
    const { dt, wc, settle } = await harness();
    dt.addDept({ dept_id: 6, name: '新部门', parent_id: 2 }, { push: false });
    dt.addUser({ userid: 'zhaoliu', name: '赵六', mobile: '13800000006', dept_id_list: [6] });
    await settle();
    expect(wc.getDept(6)).toMatchObject({ name: '新部门', parentid: 2 });
    expect(wc.getUser('zhaoliu')?.department).toEqual([6]);
    wc.resetCalls();
    dt.pushEvent('org_dept_create', { deptIds: [6] });
    await settle();
    expect(wecomWrites(wc)).toBe(0);
  });
});

describe('leaving and coming back', () => {
  it('disables a leaver by default, and re-enables them when they rejoin', async () => {
    const { dt, wc, store, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    const before = dt.getUser('zhangsan')!;
    dt.removeUser('zhangsan');
    await settle();
    expect(wc.getUser('zhangsan')?.enable).toBe(0);
    expect((await store.get('user', 'zhangsan'))?.status).toBe('disabled');
    dt.addUser({ ...before, dept_order_list: [] });
    await settle();
    expect(wc.getUser('zhangsan')?.enable).toBe(1);
    expect((await store.get('user', 'zhangsan'))?.status).toBe('synced');
  });

  it('deletes a leaver under SYNC_ON_LEAVE=delete, and creates them again on rejoin', async () => {
    const { dt, wc, store, settle } = await harness({ SYNC_ON_LEAVE: 'delete' });
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    const before = dt.getUser('zhangsan')!;
    dt.removeUser('zhangsan');
    await settle();
    expect(wc.getUser('zhangsan')).toBeUndefined();
    expect((await store.get('user', 'zhangsan'))?.status).toBe('deleted');
    dt.addUser({ ...before, dept_order_list: [] });
    await settle();
    expect(wc.getUser('zhangsan')?.enable).toBe(1);
  });

  it('leaves WeCom alone under SYNC_ON_LEAVE=ignore', async () => {
    const { dt, wc, store, settle } = await harness({ SYNC_ON_LEAVE: 'ignore' });
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    wc.resetCalls();
    dt.removeUser('zhangsan');
    await settle();
    expect(wc.getUser('zhangsan')?.enable).toBe(1);
    expect(wecomWrites(wc)).toBe(0);
    expect((await store.get('user', 'zhangsan'))?.status).toBe('ignored');
  });

  it('never touches a WeCom user the sync does not own', async () => {
    const { dt, wc, settle } = await harness();
    wc.seedUser({ userid: 'handmade', name: '手工', department: [1], mobile: '+86 13900000000' });
    dt.pushEvent('user_leave_org', { userIds: ['handmade'] });
    await settle();
    expect(wc.getUser('handmade')?.enable).toBe(1);
    expect(wecomWrites(wc)).toBe(0);
  });
});

describe('department events', () => {
  it('creates, renames, moves and removes departments', async () => {
    const { dt, wc, settle } = await harness();
    const created = dt.addDept({ name: '测试部', parent_id: 1 });
    await settle();
    expect(wc.getDept(created.dept_id)).toMatchObject({ name: '测试部', parentid: 1 });
    dt.pushEvent('org_dept_create', { deptIds: [3] });
    await settle();
    dt.updateDept(3, { name: '平台组', parent_id: 4 });
    await settle();
    expect(wc.getDept(3)).toMatchObject({ name: '平台组', parentid: 4 });
    dt.updateDept(created.dept_id, { name: '测试部*临时' });
    await settle();
    expect(wc.getDept(created.dept_id)?.name).toBe('测试部_临时'); // WeCom forbids '*'
    dt.removeDept(created.dept_id);
    await settle();
    expect(wc.getDept(created.dept_id)).toBeUndefined();
  });

  it('lets WeCom assign an id when the DingTalk id belongs to an unrelated WeCom department', async () => {
    const { dt, wc, store, settle } = await harness();
    wc.seedDept({ id: 3, name: '手工部门', parentid: 1 }); // made by hand, elsewhere in the tree
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    const mapped = Number((await store.get('dept', '3'))?.wecomId);
    expect(mapped).not.toBe(3);
    expect(wc.getDept(mapped)).toMatchObject({ name: '后端组', parentid: 2 });
    expect(wc.getDept(3)).toMatchObject({ name: '手工部门', parentid: 1 });
    expect(wc.getUser('zhangsan')?.department).toEqual([mapped]);
  });

  it('adopts its own department after a lost state write (same id, same parent)', async () => {
    const { dt, wc, store, settle } = await harness();
    wc.seedDept({ id: 2, name: '研发部', parentid: 1 });
    dt.pushEvent('org_dept_modify', { deptIds: [2] });
    await settle();
    expect(wc.listDepts().filter((d) => d.name === '研发部')).toHaveLength(1);
    expect(await store.get('dept', '2')).toMatchObject({ owned: true, wecomId: '2', status: 'synced' });
  });

  it('removes a department after its members moved out', async () => {
    const { dt, wc, store, settle } = await harness();
    dt.addDept({ dept_id: 5, name: '临时组', parent_id: 1 }, { push: false });
    dt.addUser({ userid: 'qianqi', name: '钱七', mobile: '13800000007', dept_id_list: [5] });
    await settle();
    expect(wc.getUser('qianqi')?.department).toEqual([5]);
    dt.updateUser('qianqi', { dept_id_list: [4] });
    dt.removeDept(5);
    await settle();
    expect(wc.getDept(5)).toBeUndefined();
    expect(wc.getUser('qianqi')?.department).toEqual([4]);
    expect((await store.get('dept', '5'))?.status).toBe('deleted');
  });

  it('deletes a department WeCom refuses while members remain, by syncing the members it owns first, in the same message', async () => {
    const { dt, wc, queue, process } = await harness();
    dt.addDept({ dept_id: 5, name: '临时组', parent_id: 1 }, { push: false });
    dt.addUser({ userid: 'qianqi', name: '钱七', mobile: '13800000007', dept_id_list: [5] });
    await h!.settle();
    // The department's removal is processed before the member's move reaches the worker.
    dt.updateUser('qianqi', { dept_id_list: [4] }, { push: false });
    dt.removeDept(5);
    await dt.idle();
    const first = await runOneBatch(queue, process);
    expect(first?.response.batchItemFailures).toEqual([]);
    expect(wc.getUser('qianqi')?.department).toEqual([4]);
    expect(wc.getDept(5)).toBeUndefined();
  });
});

describe('scope', () => {
  it('syncs only SYNC_ROOT_DEPT_IDS subtrees, placing a configured root under WeCom’s root', async () => {
    const { dt, wc, settle } = await harness({ SYNC_ROOT_DEPT_IDS: '2' });
    dt.pushEvent('user_add_org', { userIds: ['zhangsan', 'wangwu'] });
    await settle();
    expect(wc.getDept(2)).toMatchObject({ parentid: 1 });
    expect(wc.getUser('zhangsan')?.department).toEqual([3]);
    expect(wc.getUser('wangwu')).toBeUndefined();
    expect(wc.getDept(4)).toBeUndefined();
  });

  it('leaves out SYNC_EXCLUDE_DEPT_IDS, and disables an owned user who moves there', async () => {
    const { dt, wc, settle } = await harness({ SYNC_EXCLUDE_DEPT_IDS: '4' });
    dt.pushEvent('user_add_org', { userIds: ['zhangsan', 'wangwu', 'lisi'] });
    await settle();
    expect(wc.getUser('wangwu')).toBeUndefined();
    expect(wc.getUser('lisi')?.department).toEqual([2]); // only the in-scope department
    dt.updateUser('zhangsan', { dept_id_list: [4] });
    await settle();
    expect(wc.getUser('zhangsan')?.enable).toBe(0);
  });

  it('treats a user the DingTalk app cannot see (50002) as a configuration problem, not a departure', async () => {
    const { dt, wc, store, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    dt.setOutOfScope('zhangsan', true, { push: false });
    dt.pushEvent('user_modify_org', { userIds: ['zhangsan'] });
    const batches = await settle();
    expect(batches.flatMap((b) => b.response.batchItemFailures)).toEqual([]);
    expect(wc.getUser('zhangsan')?.enable).toBe(1);
    expect(await store.get('user', 'zhangsan')).toMatchObject({ status: 'synced', lastErrcode: 50002 });
  });
});

describe('failures', () => {
  it('records a permanent error (mobile taken) and does not retry it until the user changes', async () => {
    const { dt, wc, store, queue, settle } = await harness();
    wc.seedUser({ userid: 'other', name: '别人', department: [1], mobile: '+86 13800000001' });
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    const batches = await settle();
    expect(batches.flatMap((b) => b.response.batchItemFailures)).toEqual([]);
    expect(queue.deadLetters).toHaveLength(0);
    expect(wc.getUser('zhangsan')).toBeUndefined();
    expect(await store.get('user', 'zhangsan')).toMatchObject({ status: 'failed', lastErrcode: 60104 });
    wc.resetCalls();
    dt.pushEvent('user_modify_org', { userIds: ['zhangsan'] });
    await settle();
    expect(wecomWrites(wc)).toBe(0);
    dt.updateUser('zhangsan', { mobile: '13800000099' });
    await settle();
    expect(wc.getUser('zhangsan')?.mobile).toBe('+86 13800000099');
    expect((await store.get('user', 'zhangsan'))?.status).toBe('synced');
  });

  it('records a user with neither mobile nor email as a permanent error that says so', async () => {
    const { dt, store, settle } = await harness();
    dt.addUser({ userid: 'nocontact', name: '无联系', dept_id_list: [4] });
    await settle();
    const state = await store.get('user', 'nocontact');
    expect(state?.status).toBe('failed');
    expect(state?.lastError).toMatch(/mobile/);
    expect(state?.lastError).toMatch(/email/);
  });

  it.each([
    ['-1 system busy', (h: Harness) => h.wc.failNext('user/create', -1)],
    ['HTTP 502', (h: Harness) => h.wc.failNextHttp('user/create', 502)],
  ])('returns the message to the queue on %s, then succeeds', async (_name, inject) => {
    const hh = await harness();
    await hh.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    inject(hh);
    const first = await runOneBatch(hh.queue, hh.process);
    expect(first?.response.batchItemFailures).toHaveLength(1);
    expect(hh.queue.depth).toBe(1);
    await hh.settle();
    expect(hh.wc.getUser('zhangsan')?.enable).toBe(1);
    expect(hh.queue.deadLetters).toHaveLength(0);
  });

  // Throttles pass by waiting: the call is made again within the invocation, and the message is
  // neither returned nor counted a receive closer to the dead letters.
  it.each([
    ['WeCom 45009 frequency limit', (h: Harness) => h.wc.failNext('user/create', 45009)],
    ['WeCom 45033 too many concurrent calls', (h: Harness) => h.wc.failNext('user/create', 45033)],
    ['DingTalk 90018', (h: Harness) => h.dt.failNext('topapi/v2/user/get', 90018)],
  ])('waits out %s within the invocation, returning nothing to the queue', async (_name, inject) => {
    const hh = await harness();
    await hh.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    inject(hh);
    const first = await runOneBatch(hh.queue, hh.process);
    expect(first?.response.batchItemFailures).toEqual([]);
    expect(first?.outcomes.map((o) => o.result)).toEqual(['created']);
    expect(hh.queue.depth).toBe(0);
    expect(hh.wc.getUser('zhangsan')?.enable).toBe(1);
  });

  it('returns the message to the queue on a timeout, then succeeds', async () => {
    const hh = await harness({}, { timeoutMs: 200 });
    await hh.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    hh.wc.delayMs('user/create', 2000);
    const first = await runOneBatch(hh.queue, hh.process);
    expect(first?.response.batchItemFailures).toHaveLength(1);
    hh.wc.delayMs('user/create', 0);
    await hh.settle();
    expect(hh.wc.getUser('zhangsan')?.enable).toBe(1);
  });

  it('fails only the failing entity’s group in a batch; others go on', async () => {
    const hh = await harness();
    await hh.dt.pushEvent('user_add_org', { userIds: ['zhangsan', 'lisi'] });
    await hh.settle(); // departments and both users exist
    hh.dt.updateUser('zhangsan', { title: 'A' }, { push: false });
    hh.dt.updateUser('lisi', { title: 'B' }, { push: false });
    await hh.dt.pushEvent('user_modify_org', { userIds: ['zhangsan', 'lisi'] });
    hh.wc.failNext('user/update', -1);
    const first = await runOneBatch(hh.queue, hh.process);
    expect(first?.response.batchItemFailures).toHaveLength(1);
    expect(first?.outcomes.map((o) => o.result)).toEqual(['updated']);
    await hh.settle();
    expect([hh.wc.getUser('zhangsan')?.position, hh.wc.getUser('lisi')?.position]).toEqual(['A', 'B']);
  });

  it('adopts a WeCom user that already has the userid (60102 on create → update)', async () => {
    const { dt, wc, store, settle } = await harness();
    wc.seedUser({ userid: 'zhangsan', name: '旧名', department: [1], email: 'old@example.com' });
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    expect(wc.getUser('zhangsan')).toMatchObject({ name: '张三', department: [3] });
    expect((await store.get('user', 'zhangsan'))?.owned).toBe(true);
  });

  it('recreates an owned user deleted in WeCom by hand (60111 on update → create)', async () => {
    const { dt, wc, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    wc.removeUserByHand('zhangsan');
    dt.updateUser('zhangsan', { title: '新职位' });
    await settle();
    expect(wc.getUser('zhangsan')?.position).toBe('新职位');
  });
});

describe('leavers, failed renames and a reconcile after the worker', () => {
  it('moves a disabled leaver to the root, so the department they left can still be deleted', async () => {
    const { dt, wc, store, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['wangwu', 'lisi'] });
    await settle();
    dt.removeUser('wangwu');
    await settle();
    expect(wc.getUser('wangwu')).toMatchObject({ enable: 0, department: [1] });
    dt.updateUser('lisi', { dept_id_list: [2], leader_in_dept: [{ dept_id: 2, leader: true }] });
    dt.removeDept(4);
    const batches = await settle();
    expect(batches.flatMap((b) => b.response.batchItemFailures)).toEqual([]);
    expect(wc.getDept(4)).toBeUndefined();
    expect((await store.get('dept', '4'))?.status).toBe('deleted');
  });

  it('a department whose rename failed still holds its members’ updates', async () => {
    const { dt, wc, store, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['wangwu'] });
    await settle();
    wc.seedDept({ id: 9001, name: '销售部', parentid: 1 }); // a sibling takes the new name first
    dt.updateDept(4, { name: '销售部' });
    await settle();
    expect((await store.get('dept', '4'))?.lastErrcode).toBe(60008);
    dt.updateUser('wangwu', { title: '销售经理' });
    await settle();
    expect(wc.getUser('wangwu')?.position).toBe('销售经理');
  });

  it('after the worker synced everything, a reconcile plans nothing (department order is not compared)', async () => {
    const { dt, wc, store, queue, dingtalk, wecom, sync, settle } = await harness();
    dt.pushEvent('org_dept_create', { deptIds: [2, 3, 4] });
    dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await settle();
    dt.pushEvent('user_add_org', { userIds: ['zhangsan', 'wangwu'] });
    await settle();
    wc.resetCalls();
    const config = { rootDeptIds: [1], excludeDeptIds: [], onLeave: 'disable' as const, toInvite: false, maxDeleteRatio: 0.2 };
    const { plan } = await runReconcile({ dingtalk, wecom, store, sync, queue, config }, { dryRun: true });
    expect(plan?.ops.map((o) => `${o.op} ${o.id}`)).toEqual([]);
    expect(wecomWrites(wc)).toBe(0);
  });

  it('a reconcile write prepared before a newer worker write is not written: DingTalk is read again (ifVersion)', async () => {
    const { dt, wc, store, sync, settle } = await harness();
    dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    const scanned = dt.getUser('zhangsan')!; // what a reconcile read
    const version = (await store.get('user', 'zhangsan'))!.version;
    dt.updateUser('zhangsan', { title: '新职位' }); // …then HR changed it and the worker wrote it
    await settle();
    wc.resetCalls();
    const outcome = await sync.applyUser(scanned, { ifVersion: version });
    expect(outcome.result).toBe('unchanged');
    expect(wecomWrites(wc)).toBe(0);
    expect(wc.getUser('zhangsan')?.position).toBe('新职位');
  });
});
