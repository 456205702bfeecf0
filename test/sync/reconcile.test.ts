/**
 * The full reconcile against the simulators over HTTP (DingTalk reads, WeCom writes), the
 * embedded store and the in-process queue. WeCom writes are counted by the simulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { composeLocalService } from '../../lib/compose/local';
import type { FileStateStore } from '../../lib/local/file-store';
import type { InProcessQueue } from '../../lib/local/memory-queue';
import type { DingTalkSimulator } from '../../lib/sandbox/dingtalk-sim';
import { wecomWrites } from '../../lib/sandbox/pipeline';
import type { WeComSimulator } from '../../lib/sandbox/wecom-sim';
import { EntitySync } from '../../lib/sync/entity';
import { type ReconcileDeps, runReconcile } from '../../lib/sync/reconcile';

interface Rig {
  dt: DingTalkSimulator;
  wc: WeComSimulator;
  store: FileStateStore;
  queue: InProcessQueue;
  deps: ReconcileDeps;
  close(): Promise<void>;
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** `pacing`: every call paced under the rate settings (the simulators' limits are off unless a test sets them). */
async function setup(env: Record<string, string> = {}, opts: { seed?: boolean; pacing?: boolean } = {}): Promise<Rig> {
  const service = await composeLocalService(
    {},
    {
      sandbox: true,
      simulators: { dingtalk: { retryDelaysMs: [], rateLimitPerSecond: null }, wecom: { rateLimitPerMinute: null }, seed: opts.seed },
      overrides: env,
      pacing: opts.pacing ?? false,
    },
  );
  const deps: ReconcileDeps = service.reconcileDeps(service.queue);
  const { dingtalk: dt, wecom: wc } = service.sims!;
  rig = { dt, wc, store: service.store as FileStateStore, queue: service.localQueue!, deps, close: service.close };
  return rig;
}

function addMembers(dt: DingTalkSimulator, deptId: number, count: number, prefix: string) {
  dt.seed({
    users: Array.from({ length: count }, (_, i) => ({
      userid: `${prefix}${i}`,
      name: `成员${i}`,
      mobile: `139${String(deptId).padStart(2, '0')}${String(i).padStart(6, '0')}`,
      dept_id_list: [deptId],
    })),
  });
}

describe('first import and convergence', () => {
  it('imports an organisation into an empty WeCom, then a second run writes nothing', async () => {
    const { dt, wc, store, deps } = await setup();
    const first = await runReconcile(deps);
    expect(first.report.status).toBe('success');
    expect(first.report.counts).toMatchObject({ create_dept: 3, create_user: 3 });
    expect(wc.getDept(3)).toMatchObject({ name: '后端组', parentid: 2 });
    expect(wc.getUser('lisi')?.department.sort()).toEqual([2, 4]);
    expect(wc.getUser('zhangsan')?.direct_leader).toEqual(['lisi']);
    expect((await store.latestReport())?.status).toBe('success');

    wc.resetCalls();
    dt.resetCalls();
    const second = await runReconcile(deps);
    expect(second.report.status).toBe('success');
    expect(second.plan?.ops).toEqual([]);
    expect(wecomWrites(wc)).toBe(0);
  });

  it('reads every member of a department beyond the first page of 100', async () => {
    const { dt, wc, deps } = await setup();
    addMembers(dt, 4, 250, 'm');
    const result = await runReconcile(deps);
    expect(result.report.status).toBe('success');
    expect(wc.listUsers().filter((u) => u.userid.startsWith('m'))).toHaveLength(250);
    expect(dt.calls['topapi/v2/user/list']).toBeGreaterThanOrEqual(3 + 3); // 3 pages for dept 4, one each elsewhere
  });

  it('a dry run plans and writes nothing, not even the report', async () => {
    const { wc, store, deps } = await setup();
    const result = await runReconcile(deps, { dryRun: true });
    expect(result.plan?.ops.length).toBe(6);
    expect(wecomWrites(wc)).toBe(0);
    expect(await store.list('user')).toEqual([]);
    expect(await store.latestReport()).toBeUndefined();
  });
});

describe('drift repair within what WeCom lets the sync see', () => {
  it('restores an owned department deleted by hand, moves back one moved by hand, and puts a user back in a department', async () => {
    const { wc, deps } = await setup();
    await runReconcile(deps);
    // By hand in WeCom: move dept 3 to the top, empty dept 4 and delete it.
    wc.moveDeptByHand(3, 1);
    wc.updateUserByHand('lisi', { department: [2] });
    wc.updateUserByHand('wangwu', { department: [2] });
    wc.removeDeptByHand(4);
    const result = await runReconcile(deps);
    expect(result.report.status).toBe('success');
    expect(result.report.counts).toMatchObject({ restore_dept: 1, move_dept: 1 });
    expect(wc.getDept(4)).toMatchObject({ name: '市场部', parentid: 1 });
    expect(wc.getDept(3)?.parentid).toBe(2);
    expect(wc.getUser('lisi')?.department.sort()).toEqual([2, 4]);
    expect(wc.getUser('wangwu')?.department).toEqual([4]);
  });

  it('leaves WeCom-only users and departments untouched', async () => {
    const { wc, deps } = await setup();
    const own = wc.seedDept({ id: 9000, name: '企业微信自建', parentid: 1 });
    wc.seedUser({ userid: 'wecomonly', name: '本地', department: [own], mobile: '+86 13700000000' });
    await runReconcile(deps);
    wc.resetCalls();
    await runReconcile(deps);
    expect(wc.getUser('wecomonly')).toMatchObject({ enable: 1, department: [own] });
    expect(wc.getDept(own)?.name).toBe('企业微信自建');
    expect(wecomWrites(wc)).toBe(0);
  });

  it('--rewrite-all rewrites every owned entity (field drift hidden by 48009)', async () => {
    const { wc, deps } = await setup();
    await runReconcile(deps);
    wc.updateUserByHand('zhangsan', { position: '手改' });
    wc.resetCalls();
    expect((await runReconcile(deps)).plan?.ops).toEqual([]);
    const result = await runReconcile(deps, { rewriteAll: true });
    expect(result.report.counts).toMatchObject({ rewrite_dept: 3, rewrite_user: 3 });
    expect(wc.getUser('zhangsan')?.position).toBe('后端工程师');
  });

  it('adopts a WeCom user whose userid matches a DingTalk user', async () => {
    const { wc, store, deps } = await setup();
    wc.seedUser({ userid: 'wangwu', name: '旧', department: [1], email: 'old@example.com' });
    const result = await runReconcile(deps);
    expect(result.report.counts.adopt_user).toBe(1);
    expect(wc.getUser('wangwu')).toMatchObject({ name: '王五', department: [4] });
    expect((await store.get('user', 'wangwu'))?.owned).toBe(true);
  });
});

describe('events that never arrived', () => {
  it('disables a user deleted in DingTalk while pushes were failing', async () => {
    const { dt, wc, deps } = await setup();
    await runReconcile(deps);
    dt.pushEnabled = false;
    dt.removeUser('wangwu');
    const result = await runReconcile(deps);
    expect(result.report.counts.disable_user).toBe(1);
    expect(wc.getUser('wangwu')?.enable).toBe(0);
  });

  it('deletes an owned department gone from DingTalk, after its members moved', async () => {
    const { dt, wc, deps } = await setup();
    await runReconcile(deps);
    dt.pushEnabled = false;
    dt.updateUser('zhangsan', { dept_id_list: [2] });
    dt.removeDept(3);
    const result = await runReconcile(deps);
    expect(result.report.status).toBe('success');
    expect(wc.getDept(3)).toBeUndefined();
    expect(wc.getUser('zhangsan')?.department).toEqual([2]);
  });

  it('takes people out of a department newly excluded from the scope, then deletes it', async () => {
    const { dt, wc, store, deps } = await setup();
    await runReconcile(deps);
    dt.pushEnabled = false;
    dt.updateUser('wangwu', { dept_id_list: [2] }); // lisi stays in 2 and 4 in DingTalk
    const config = { ...deps.config, excludeDeptIds: [4] };
    const narrowed: ReconcileDeps = { ...deps, config, sync: new EntitySync({ dingtalk: deps.dingtalk, wecom: deps.wecom, store, config }) };
    const result = await runReconcile(narrowed);
    expect(result.report.status).toBe('success');
    expect(result.plan?.ops.map((o) => `${o.op} ${o.id}`)).toEqual(['update_user lisi', 'update_user wangwu', 'delete_dept 4']);
    expect(wc.getUser('lisi')?.department).toEqual([2]);
    expect(wc.getDept(4)).toBeUndefined();
    wc.resetCalls();
    expect((await runReconcile(narrowed)).plan?.ops).toEqual([]);
    expect(wecomWrites(wc)).toBe(0);
  });

  it('sweeps every page of the failed-push list onto the queue', async () => {
    const { dt, queue, deps } = await setup();
    for (let i = 0; i < 450; i++) dt.recordFailedPush('user_modify_org', { userIds: [`u${i}`] });
    dt.recordFailedPush('org_dept_modify', { deptIds: [2, 3] });
    const result = await runReconcile(deps);
    expect(result.report.counts.failed_push_enqueued).toBe(452);
    expect(queue.depth).toBe(452);
    expect(dt.calls['call_back/get_call_back_failed_result']).toBe(3); // 200 + 200 + 51
    expect(queue.receive(10).map((m) => m.groupId)).toContain('user:u0');
  });

  it('does not sweep on a dry run (reading the list would empty it)', async () => {
    const { dt, queue, deps } = await setup();
    dt.recordFailedPush('user_modify_org', { userIds: ['zhangsan'] });
    await runReconcile(deps, { dryRun: true });
    expect(queue.depth).toBe(0);
    expect(dt.failedBacklog).toBe(1);
  });
});

describe('deletion guard and lock', () => {
  it('blocks a run that would remove half the users, writing nothing; --allow-deletes lets it through', async () => {
    const { dt, wc, store, deps } = await setup();
    addMembers(dt, 4, 20, 'g');
    await runReconcile(deps);
    dt.pushEnabled = false;
    for (let i = 0; i < 12; i++) dt.removeUser(`g${i}`);
    wc.resetCalls();
    const blocked = await runReconcile(deps);
    expect(blocked.report.status).toBe('blocked');
    expect(blocked.report.message).toMatch(/12 of 23 owned users/);
    expect(wecomWrites(wc)).toBe(0);
    expect((await store.latestReport())?.status).toBe('blocked');
    const allowed = await runReconcile(deps, { allowDeletes: true });
    expect(allowed.report.status).toBe('success');
    expect(allowed.report.counts.disable_user).toBe(12);
  });

  it("holds the removals, which read DingTalk again first, to DingTalk's 20 calls/s", async () => {
    const { dt, wc, deps } = await setup({}, { pacing: true });
    addMembers(dt, 4, 30, 'r');
    await runReconcile(deps);
    dt.pushEnabled = false;
    for (let i = 0; i < 30; i++) dt.removeUser(`r${i}`);
    dt.setRateLimit({ limit: 20, windowMs: 1000 }); // DingTalk's own limit: 90018 beyond it
    const result = await runReconcile(deps, { allowDeletes: true });
    expect(result.report.errors).toEqual([]);
    expect(result.report.counts.disable_user).toBe(30);
    expect(wc.listUsers().filter((u) => u.userid.startsWith('r') && u.enable === 0)).toHaveLength(30);
  });

  it("holds the updates, which read DingTalk again first, and the creates' full reads to DingTalk's 20 calls/s: one read per person created", async () => {
    const { dt, wc, deps } = await setup({}, { pacing: true });
    addMembers(dt, 4, 30, 'r');
    await runReconcile(deps);
    dt.pushEnabled = false;
    for (let i = 0; i < 30; i++) dt.updateUser(`r${i}`, { title: '新职位' });
    addMembers(dt, 2, 30, 'n');
    dt.resetCalls();
    dt.setRateLimit({ limit: 20, windowMs: 1000 }); // DingTalk's own limit: 90018 beyond it
    const result = await runReconcile(deps);
    expect(result.report.errors).toEqual([]);
    expect(result.report.counts).toMatchObject({ update_user: 30, create_user: 30 });
    // Updates: a fresh read each under the lease. Creates: one full read each, for the reporting
    // line. Plus the sweep's slice, whose changed people are then read again for their update.
    const swept = result.report.counts.detail_swept!;
    expect(result.report.counts.detail_read).toBe(30 + swept);
    // Calls a stall let through together beyond 20 in one second are refused and made again: not reads.
    const reads = dt.calls['topapi/v2/user/get']! - (dt.throttled['topapi/v2/user/get'] ?? 0);
    expect(reads).toBe(30 + 30 + swept);
    expect(wc.listUsers().filter((u) => u.userid.startsWith('r') && u.position === '新职位')).toHaveLength(30);
  }, 60_000);

  it('lets a small organisation lose a few people (the floor)', async () => {
    const { dt, deps } = await setup();
    await runReconcile(deps);
    dt.pushEnabled = false;
    dt.removeUser('wangwu');
    dt.removeUser('zhangsan');
    expect((await runReconcile(deps)).report.status).toBe('success');
  });

  it('two concurrent runs: one runs, the other reports the lock', async () => {
    const { deps } = await setup();
    const [a, b] = await Promise.all([runReconcile(deps), runReconcile(deps)]);
    expect([a.report.status, b.report.status].sort()).toEqual(['locked', 'success']);
    expect((await runReconcile(deps)).report.status).toBe('success'); // released afterwards
  });
});

describe('failures', () => {
  it('reports a blocked department on every run, partial, without planning a deletion that would only fail again', async () => {
    const { dt, wc, store, deps } = await setup();
    await runReconcile(deps);
    wc.seedUser({ userid: 'handmade', name: '手工', department: [4], mobile: '+86 13700000000' });
    dt.updateUser('lisi', { dept_id_list: [2] }, { push: false });
    dt.updateUser('wangwu', { dept_id_list: [2] }, { push: false });
    dt.removeDept(4, { push: false });
    const first = await runReconcile(deps);
    expect(first.report.status).toBe('partial');
    expect(first.report.errors).toEqual([expect.objectContaining({ kind: 'dept', id: '4', op: 'delete_dept', message: expect.stringMatching(/handmade/) })]);
    expect((await store.get('dept', '4'))?.status).toBe('blocked');

    wc.resetCalls();
    const second = await runReconcile(deps);
    expect(second.plan?.ops).toEqual([]);
    expect(second.report).toMatchObject({ status: 'partial', counts: { blocked_dept: 1 } });
    expect(second.report.errors).toEqual([
      expect.objectContaining({ kind: 'dept', id: '4', op: 'blocked', errcode: 60005, message: expect.stringMatching(/handmade/) }),
    ]);
    expect(wecomWrites(wc)).toBe(0);
  });

  it('reports partial, never success, when some entities fail', async () => {
    const { wc, deps } = await setup();
    wc.seedUser({ userid: 'other', name: '别人', department: [1], mobile: '+86 13800000001' });
    const result = await runReconcile(deps);
    expect(result.report.status).toBe('partial');
    expect(result.report.errors).toEqual([expect.objectContaining({ kind: 'user', id: 'zhangsan', errcode: 60104 })]);
    // The worker does not retry a permanent failure; the next reconcile does, and it now succeeds.
    wc.removeUserByHand('other');
    const next = await runReconcile(deps);
    expect(next.report).toMatchObject({ status: 'success', counts: { retry_user: 1 } });
    expect(wc.getUser('zhangsan')?.enable).toBe(1);
  });

  it('stops at a configuration error instead of failing every remaining operation', async () => {
    const { wc, deps } = await setup();
    wc.failNext('department/create', 60020, 1, 'not allow to access from your ip, from ip: 203.0.113.7');
    const result = await runReconcile(deps);
    expect(result.report.status).toBe('failed');
    expect(result.report.message).toMatch(/configuration error, 5 of 6 operations not attempted.*60020/);
    expect(result.report.counts.skipped).toBe(5);
    expect(wc.calls['department/create']).toBe(1);
    expect(wc.calls['user/create'] ?? 0).toBe(0);
  });

  it('retries a throttled DingTalk read instead of failing the run', async () => {
    const { dt, wc, deps } = await setup();
    dt.failNext('topapi/v2/user/list', 90018, 1);
    dt.failNext('topapi/v2/department/listsub', 90018, 1);
    const result = await runReconcile({ ...deps, readRetryDelaysMs: [0] });
    expect(result.report.status).toBe('success');
    expect(wc.listUsers()).toHaveLength(3);
  });

  it('fails cleanly when both DingTalk list APIs refuse (no stray rejection from member reads)', async () => {
    const { dt, wc, deps } = await setup();
    dt.failNext('topapi/v2/user/list', 40089, 5);
    dt.failNext('topapi/v2/department/listsub', 40089, 5);
    const result = await runReconcile(deps);
    expect(result.report.status).toBe('failed');
    expect(wecomWrites(wc)).toBe(0);
  });

  it('reports failed when DingTalk cannot be read', async () => {
    const { dt, wc, deps } = await setup();
    dt.failNext('topapi/v2/department/listsub', 40089, 5);
    const result = await runReconcile(deps);
    expect(result.report.status).toBe('failed');
    expect(wecomWrites(wc)).toBe(0);
  });
});
