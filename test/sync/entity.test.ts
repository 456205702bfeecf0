/**
 * EntitySync against the simulators over HTTP (DingTalk reads, WeCom writes) and the embedded
 * store, one call at a time: what each path writes to WeCom, what it records, what it returns.
 * WeCom writes are counted by the simulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { composeLocalService } from '../../lib/compose/local';
import type { LeavePolicy, SyncConfig } from '../../lib/config';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { PlatformError } from '../../lib/errors';
import type { FileStateStore } from '../../lib/local/file-store';
import { createMemoryLogger } from '../../lib/log';
import type { StateStore } from '../../lib/ports';
import type { DingTalkSimulator } from '../../lib/sandbox/dingtalk-sim';
import { dingtalkReads, wecomWrites } from '../../lib/sandbox/pipeline';
import type { WeComSimulator } from '../../lib/sandbox/wecom-sim';
import { EntitySync, type SyncResult } from '../../lib/sync/entity';
import { ConcurrentWriteError } from '../../lib/sync/entity-state';
import { collectingNewLeaders } from '../../lib/sync/new-leaders';
import { WECOM_ERR } from '../../lib/wecom/errors';
import { viewOf } from '../support/store-view';

interface Rig {
  dt: DingTalkSimulator;
  wc: WeComSimulator;
  store: FileStateStore;
  sync: EntitySync;
  config: SyncConfig;
  /** Another EntitySync on the same clients and store, with some settings changed. */
  syncWith(config: Partial<SyncConfig>): EntitySync;
  /** Another EntitySync on the same clients, over `store` (a view of the same one). */
  syncOn(store: StateStore): EntitySync;
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function setup(env: Record<string, string> = {}): Promise<Rig> {
  const service = await composeLocalService(
    {},
    { sandbox: true, simulators: { dingtalk: { retryDelaysMs: [] }, wecom: { rateLimitPerMinute: null } }, overrides: env, logger: createMemoryLogger() },
  );
  close = service.close;
  const { dingtalk, wecom, sync, config } = service;
  const store = service.store as FileStateStore;
  return {
    dt: service.sims!.dingtalk,
    wc: service.sims!.wecom,
    store,
    sync,
    config,
    syncWith: (over) => new EntitySync({ dingtalk, wecom, store, config: { ...config, ...over } }),
    syncOn: (view) => new EntitySync({ dingtalk, wecom, store: view, config }),
  };
}

/**
 * Another worker's view of the store: just before `report`'s record leaving `manager` out is
 * saved, the rig's own sync creates `manager` (and finds nobody waiting for them yet).
 */
function managerCreatedBeforeSave(rig: Rig, report: string, manager: string): { view: StateStore; written(): boolean } {
  let written = false;
  const view = viewOf(rig.store, {
    put: async (state, opts) => {
      if (!written && state.id === report && state.leaderWithheld === manager) {
        written = true;
        expect(await rig.sync.syncUser(manager)).toMatchObject({ result: 'created' });
      }
      return rig.store.put(state, opts);
    },
  });
  return { view, written: () => written };
}

/** Forgets the calls counted so far, so the next assertions count only what follows. */
function resetCalls({ dt, wc }: Rig): void {
  dt.resetCalls();
  wc.resetCalls();
}

describe('creating what WeCom lacks', () => {
  it('creates a user and its missing departments, parent first, and records them as owned', async () => {
    const { wc, store, sync } = await setup();
    const outcome = await sync.syncUser('zhangsan');
    // Her manager lisi is not in WeCom yet: left out of direct_leader, and said so.
    expect(outcome).toEqual({ kind: 'user', id: 'zhangsan', result: 'created', wecomId: 'zhangsan', leaderWithheld: 'lisi' });
    expect(wc.getDept(2)).toMatchObject({ name: '研发部', parentid: 1 });
    expect(wc.getDept(3)).toMatchObject({ name: '后端组', parentid: 2 });
    expect(wc.getUser('zhangsan')).toMatchObject({ name: '张三', department: [3], enable: 1 });
    expect(await store.get('user', 'zhangsan')).toMatchObject({ status: 'synced', owned: true, wecomId: 'zhangsan' });
    expect(await store.get('dept', '3')).toMatchObject({ status: 'synced', owned: true, wecomId: '3' });
  });

  it('creates a department on its own message, and never renames WeCom’s root', async () => {
    const { wc, sync } = await setup();
    expect(await sync.syncDept(2)).toMatchObject({ result: 'created', wecomId: '2' });
    expect(wc.getDept(2)).toMatchObject({ name: '研发部', parentid: 1 });
    wc.resetCalls();
    expect(await sync.syncDept(1)).toEqual({ kind: 'dept', id: '1', result: 'unchanged', wecomId: '1' });
    expect(wecomWrites(wc)).toBe(0);
  });

  it('routes queue messages by kind, and fails a department id that is not a positive integer', async () => {
    const { sync } = await setup();
    expect(await sync.handle({ kind: 'user', id: 'wangwu', eventType: 'user_add_org', eventTime: 0, corpId: 'c' })).toMatchObject({ result: 'created' });
    expect(await sync.handle({ kind: 'dept', id: '4', eventType: 'org_dept_create', eventTime: 0, corpId: 'c' })).toMatchObject({ result: 'unchanged' });
    expect(await sync.handle({ kind: 'dept', id: 'x', eventType: 'org_dept_create', eventTime: 0, corpId: 'c' })).toEqual({
      kind: 'dept',
      id: 'x',
      result: 'failed',
      message: 'department id is not a positive integer',
    });
  });
});

describe('nothing changed, nothing written', () => {
  it('a second sync of an unchanged user costs one DingTalk read and no WeCom write', async () => {
    const rig = await setup();
    await rig.sync.syncUser('zhangsan');
    resetCalls(rig);
    expect(await rig.sync.syncUser('zhangsan')).toMatchObject({ result: 'unchanged', wecomId: 'zhangsan' });
    expect(dingtalkReads(rig.dt)).toBe(1);
    expect(wecomWrites(rig.wc)).toBe(0);
  });

  it('a second sync of an unchanged department writes nothing', async () => {
    const rig = await setup();
    await rig.sync.syncDept(3);
    resetCalls(rig);
    expect(await rig.sync.syncDept(3)).toMatchObject({ result: 'unchanged', wecomId: '3' });
    expect(wecomWrites(rig.wc)).toBe(0);
  });

  it('`force` writes even so', async () => {
    const rig = await setup();
    await rig.sync.syncUser('zhangsan');
    resetCalls(rig);
    expect(await rig.sync.applyUser(rig.dt.getUser('zhangsan')!, { force: true })).toMatchObject({ result: 'updated' });
    expect(rig.wc.calls['user/update']).toBe(1);
  });

  it('does not write a reconcile’s data prepared before a newer write (ifVersion): reads DingTalk again, finds it written', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncUser('zhangsan');
    const scanned = dt.getUser('zhangsan')!; // what a reconcile read
    const version = (await store.get('user', 'zhangsan'))!.version;
    dt.updateUser('zhangsan', { title: '新职位' }); // …then HR changed it and the worker wrote it
    await sync.syncUser('zhangsan');
    wc.resetCalls();
    const outcome = await sync.applyUser(scanned, { ifVersion: version });
    expect(outcome.result).toBe('unchanged');
    expect(wecomWrites(wc)).toBe(0);
    expect(wc.getUser('zhangsan')?.position).toBe('新职位');
  });
});

describe('reporting lines: a manager who cannot lead yet is left out, and remembered', () => {
  const boss = { userid: 'boss', name: 'Boss', mobile: '13800009999', dept_id_list: [2] };
  const rep = { userid: 'rep', name: 'Rep', mobile: '13800009998', dept_id_list: [2], manager_userid: 'boss' };

  it('records the manager left out; completeReportingLine writes the person only once that manager can lead, and the record forgets them', async () => {
    const rig = await setup();
    const { dt, wc, store, sync } = rig;
    dt.addUser(boss, { push: false });
    dt.addUser(rep, { push: false });
    await sync.syncUser('rep');
    expect(wc.getUser('rep')?.direct_leader ?? []).toEqual([]);
    expect((await store.get('user', 'rep'))?.leaderWithheld).toBe('boss');

    resetCalls(rig);
    expect(await sync.completeReportingLine('rep')).toMatchObject({ result: 'unchanged' });
    expect(dingtalkReads(dt) + wecomWrites(wc)).toBe(0);

    // boss can lead now, by a write that did not list who waited (an index read that missed rep):
    // the reconcile's completeReportingLine writes rep.
    wc.seedUser({ userid: 'boss', name: 'Boss', department: [1], mobile: boss.mobile });
    await store.put({ kind: 'user', id: 'boss', wecomId: 'boss', owned: true, status: 'synced', updatedAt: Date.now() });
    expect(await sync.completeReportingLine('rep')).toMatchObject({ result: 'updated' });
    expect(wc.getUser('rep')?.direct_leader).toEqual(['boss']);
    expect((await store.get('user', 'rep'))?.leaderWithheld).toBeUndefined();
    resetCalls(rig);
    expect(await sync.completeReportingLine('rep')).toMatchObject({ result: 'unchanged' });
    expect(dingtalkReads(dt) + wecomWrites(wc)).toBe(0);
  });

  it('notes who a write may make able to lead (new-leaders.ts): a create, a re-enable that goes through; never who already led', async () => {
    const rig = await setup();
    const { dt, wc, store, sync } = rig;
    const noted = async (work: () => Promise<unknown>) => {
      const leaders = new Set<string>();
      await collectingNewLeaders(leaders, work).catch(() => undefined);
      return [...leaders];
    };
    dt.addUser(boss, { push: false });
    dt.addUser(rep, { push: false });
    await sync.syncUser('rep');
    expect(await store.awaitingLeader('boss')).toEqual(['rep']);
    expect(await noted(() => sync.syncUser('boss'))).toEqual(['boss']);
    // EntitySync itself writes nobody else: the worker sends rep to the queue (waiting-reports.ts).
    expect(wc.getUser('rep')?.direct_leader ?? []).toEqual([]);
    dt.updateUser('boss', { title: '总监' }, { push: false });
    expect(await noted(() => sync.syncUser('boss'))).toEqual([]); // already leading
    dt.removeUser('boss', { push: false });
    expect(await sync.syncUser('boss')).toMatchObject({ result: 'disabled' });
    dt.addUser({ ...boss, title: '总监' }, { push: false });
    wc.failNext('user/update', WECOM_ERR.systemBusy);
    expect(await noted(() => sync.syncUser('boss'))).toEqual([]); // WeCom refused: nothing to save
    expect(await noted(() => sync.syncUser('boss'))).toEqual(['boss']); // re-enabled, on the retry
  });

  it('a manager written while their report is (two workers): the report looks at the manager again after its save, so the line is not lost', async () => {
    const rig = await setup();
    const { dt, wc, store } = rig;
    dt.addUser(boss, { push: false });
    dt.addUser(rep, { push: false });
    // The report's worker has read boss (not leading yet) and written rep; before its save
    // lands, the other worker creates boss and lists who waits for boss: nobody yet.
    const racing = managerCreatedBeforeSave(rig, 'rep', 'boss');
    await rig.syncOn(racing.view).syncUser('rep');
    expect(racing.written()).toBe(true);
    expect(wc.getUser('rep')?.direct_leader).toEqual(['boss']);
    expect((await store.get('user', 'rep'))?.leaderWithheld).toBeUndefined();
  });

  it('the same race when the person is unchanged in WeCom and only the manager left out changed: the new manager is looked at again too', async () => {
    const rig = await setup();
    const { dt, wc, sync } = rig;
    dt.addUser(boss, { push: false });
    dt.addUser({ ...boss, userid: 'boss2', mobile: '13800009997' }, { push: false });
    dt.addUser({ ...rep, manager_userid: 'boss2' }, { push: false });
    await sync.syncUser('rep'); // boss2 is not in WeCom: left out
    dt.updateUser('rep', { manager_userid: 'boss' }, { push: false }); // nor is boss: the payload is the same
    const racing = managerCreatedBeforeSave(rig, 'rep', 'boss');
    await rig.syncOn(racing.view).syncUser('rep');
    expect(racing.written()).toBe(true);
    expect(wc.getUser('rep')?.direct_leader).toEqual(['boss']);
  });

  it('a person unchanged in WeCom whose new manager cannot lead either: the record names the new one, with no WeCom write', async () => {
    const rig = await setup();
    const { dt, wc, store, sync } = rig;
    dt.addUser(boss, { push: false });
    dt.addUser({ ...boss, userid: 'boss2', mobile: '13800009997' }, { push: false });
    dt.addUser(rep, { push: false });
    await sync.syncUser('rep');
    dt.updateUser('rep', { manager_userid: 'boss2' }, { push: false });
    resetCalls(rig);
    expect(await sync.syncUser('rep')).toMatchObject({ result: 'unchanged' });
    expect(wecomWrites(wc)).toBe(0);
    expect((await store.get('user', 'rep'))?.leaderWithheld).toBe('boss2');
  });
});

describe('idempotent writes: a create that finds the object updates it, an update that finds nothing creates it', () => {
  it('adopts a WeCom user that already has the userid (60102 on create → update)', async () => {
    const { wc, store, sync } = await setup();
    wc.seedUser({ userid: 'zhangsan', name: '旧名', department: [1], email: 'old@example.com' });
    expect(await sync.syncUser('zhangsan')).toMatchObject({ result: 'adopted', wecomId: 'zhangsan' });
    expect(wc.calls['user/create']).toBe(1);
    expect(wc.calls['user/update']).toBe(1);
    expect(wc.getUser('zhangsan')).toMatchObject({ name: '张三', department: [3] });
    expect(await store.get('user', 'zhangsan')).toMatchObject({ owned: true, status: 'synced' });
  });

  it('creates again an owned user deleted in WeCom by hand (60111 on update → create)', async () => {
    const { dt, wc, sync } = await setup();
    await sync.syncUser('zhangsan');
    wc.removeUserByHand('zhangsan');
    dt.updateUser('zhangsan', { title: '新职位' });
    expect(await sync.syncUser('zhangsan')).toMatchObject({ result: 'created' });
    expect(wc.getUser('zhangsan')?.position).toBe('新职位');
  });

  it('restores an owned department deleted in WeCom by hand, with its id (60003 on update → create)', async () => {
    const { dt, wc, sync } = await setup();
    await sync.syncDept(4);
    wc.removeDeptByHand(4);
    dt.updateDept(4, { name: '销售部' });
    expect(await sync.syncDept(4)).toMatchObject({ result: 'created', wecomId: '4' });
    expect(wc.getDept(4)).toMatchObject({ name: '销售部', parentid: 1 });
  });

  it('adopts a department with its id under the same parent; lets WeCom assign an id when the id is someone else’s', async () => {
    const { wc, store, sync } = await setup();
    wc.seedDept({ id: 2, name: '研发部', parentid: 1 }); // what a create whose state write was lost leaves
    wc.seedDept({ id: 4, name: '手工部门', parentid: 2 }); // made by hand, elsewhere in the tree
    expect(await sync.syncDept(2)).toMatchObject({ result: 'adopted', wecomId: '2' });
    const other = await sync.syncDept(4);
    expect(other.result).toBe('created');
    expect(other.wecomId).not.toBe('4');
    expect(wc.getDept(Number(other.wecomId))).toMatchObject({ name: '市场部', parentid: 1 });
    expect(wc.getDept(4)).toMatchObject({ name: '手工部门' });
    expect((await store.get('dept', '4'))?.wecomId).toBe(other.wecomId);
  });

  it('never adopts a department with its id under another parent, whoever asks (the reconcile applies the same rule)', async () => {
    const { dt, wc, sync } = await setup();
    wc.seedDept({ id: 9000, name: '别处', parentid: 1 });
    wc.seedDept({ id: 4, name: '手工部门', parentid: 9000 });
    const outcome = await sync.applyDept(dt.getDept(4)!, { force: true });
    expect(outcome.result).toBe('created');
    expect(outcome.wecomId).not.toBe('4');
    expect(wc.getDept(4)).toMatchObject({ name: '手工部门', parentid: 9000 });
  });
});

describe('the pending claim keeps two workers from creating the same department', () => {
  const claimed = (store: FileStateStore, id: string, updatedAt: number) => store.put({ kind: 'dept', id, owned: false, status: 'pending', updatedAt });

  it('backs off with ConcurrentWriteError while another worker holds a fresh claim, and leaves the claim alone', async () => {
    const { wc, store, sync } = await setup();
    await claimed(store, '2', Date.now());
    await expect(sync.syncDept(2)).rejects.toBeInstanceOf(ConcurrentWriteError);
    // A user placed in that department waits the same way (the message is retried).
    await expect(sync.syncUser('lisi')).rejects.toBeInstanceOf(ConcurrentWriteError);
    expect(wc.getDept(2)).toBeUndefined();
    expect(await store.get('dept', '2')).toMatchObject({ status: 'pending', version: 1 });
  });

  it('takes over a claim left by a worker that died more than two minutes ago', async () => {
    const { wc, store, sync } = await setup();
    await claimed(store, '2', Date.now() - 3 * 60_000);
    expect(await sync.syncDept(2)).toMatchObject({ result: 'created', wecomId: '2' });
    expect(wc.getDept(2)).toMatchObject({ name: '研发部' });
    expect(await store.get('dept', '2')).toMatchObject({ status: 'synced', owned: true });
  });

  it('releases its own claim when the create fails retryably, so the retry is not blocked', async () => {
    const { wc, store, sync } = await setup();
    wc.failNext('department/create', WECOM_ERR.systemBusy);
    await expect(sync.syncDept(2)).rejects.toBeInstanceOf(PlatformError);
    expect(await store.get('dept', '2')).toMatchObject({ status: 'failed', lastError: 'creation interrupted' });
    expect(await sync.syncDept(2)).toMatchObject({ result: 'created' });
  });
});

describe('leavers follow SYNC_ON_LEAVE, and only members the sync owns', () => {
  it.each<[LeavePolicy, SyncResult, string]>([
    ['disable', 'disabled', 'disabled'],
    ['delete', 'deleted', 'deleted'],
    ['ignore', 'unchanged', 'ignored'],
  ])('SYNC_ON_LEAVE=%s: a user gone from DingTalk is %s', async (policy, result, status) => {
    const { dt, wc, store, sync } = await setup({ SYNC_ON_LEAVE: policy });
    await sync.syncUser('wangwu');
    dt.removeUser('wangwu');
    wc.resetCalls();
    expect(await sync.syncUser('wangwu')).toMatchObject({ result, wecomId: 'wangwu' });
    expect((await store.get('user', 'wangwu'))?.status).toBe(status);
    if (policy === 'disable') expect(wc.getUser('wangwu')).toMatchObject({ enable: 0, department: [1] }); // moved to the root
    if (policy === 'delete') expect(wc.getUser('wangwu')).toBeUndefined();
    if (policy === 'ignore') {
      expect(wc.getUser('wangwu')?.enable).toBe(1);
      expect(wecomWrites(wc)).toBe(0);
    }
  });

  it('writes nothing for a leaver already disabled', async () => {
    const { dt, wc, sync } = await setup();
    await sync.syncUser('wangwu');
    dt.removeUser('wangwu');
    await sync.syncUser('wangwu');
    wc.resetCalls();
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'unchanged' });
    expect(wecomWrites(wc)).toBe(0);
  });

  it('records a leaver already gone from WeCom as deleted', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncUser('wangwu');
    wc.removeUserByHand('wangwu');
    dt.removeUser('wangwu');
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'deleted', message: 'already gone from WeCom' });
    expect((await store.get('user', 'wangwu'))?.status).toBe('deleted');
  });

  it('treats a user who moved out of the scope as a leaver', async () => {
    const { dt, wc, sync } = await setup({ SYNC_EXCLUDE_DEPT_IDS: '4' });
    await sync.syncUser('zhangsan');
    dt.updateUser('zhangsan', { dept_id_list: [4] });
    expect(await sync.syncUser('zhangsan')).toMatchObject({ result: 'disabled' });
    expect(wc.getUser('zhangsan')?.enable).toBe(0);
  });

  it('never touches a WeCom user the sync does not own', async () => {
    const { wc, sync } = await setup();
    wc.seedUser({ userid: 'handmade', name: '手工', department: [1], mobile: '+86 13900000000' });
    expect(await sync.syncUser('handmade')).toMatchObject({ result: 'out_of_scope' });
    expect(wc.getUser('handmade')?.enable).toBe(1);
    expect(wecomWrites(wc)).toBe(0);
  });
});

describe('departments gone from DingTalk or from the scope are deleted in WeCom', () => {
  it('deletes an owned department once DingTalk no longer has it', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncUser('zhangsan');
    dt.updateUser('zhangsan', { dept_id_list: [2] });
    await sync.syncUser('zhangsan');
    dt.removeDept(3);
    expect(await sync.syncDept(3)).toEqual({ kind: 'dept', id: '3', result: 'deleted', wecomId: '3' });
    expect(wc.getDept(3)).toBeUndefined();
    expect((await store.get('dept', '3'))?.status).toBe('deleted');
    expect(await sync.removeDept(3)).toMatchObject({ result: 'unchanged' }); // already done
  });

  it('empties a gone department of the members it owns first: each is synced to where DingTalk has them now', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncUser('zhangsan');
    dt.updateUser('zhangsan', { dept_id_list: [2] }); // the move has not reached WeCom yet
    dt.removeDept(3);
    expect(await sync.syncDept(3)).toMatchObject({ result: 'deleted' });
    expect(wc.getUser('zhangsan')?.department).toEqual([2]);
    expect(wc.getDept(3)).toBeUndefined();
    expect((await store.get('dept', '3'))?.status).toBe('deleted');
  });

  it('deletes a department excluded while people remain in it: a person with no department left follows the leave policy', async () => {
    const { wc, store, sync, syncWith } = await setup();
    await sync.syncUser('wangwu');
    const narrowed = syncWith({ excludeDeptIds: [4] });
    expect(await narrowed.syncDept(4)).toMatchObject({ result: 'deleted' });
    expect(wc.getUser('wangwu')).toMatchObject({ enable: 0, department: [1] });
    expect(await store.get('user', 'wangwu')).toMatchObject({ status: 'disabled' });
    expect(await store.get('dept', '4')).toMatchObject({ status: 'deleted' });
  });

  it('never deletes a department the sync does not own', async () => {
    const { wc, sync } = await setup();
    const own = wc.seedDept({ id: 9000, name: '企业微信自建', parentid: 1 });
    expect(await sync.removeDept(own)).toMatchObject({ result: 'out_of_scope' });
    expect(wc.getDept(own)).toBeDefined();
  });

  it('deletes a department whose create was claimed but never confirmed, when WeCom has it under the claimed parent; else leaves it', async () => {
    const { wc, store, sync } = await setup();
    const claimed = (id: number, parentid: number) =>
      store.put({
        kind: 'dept',
        id: String(id),
        owned: false,
        status: 'pending',
        claim: { wecomId: String(id), payload: { name: 'x', parentid } },
        updatedAt: 1,
      });
    wc.seedDept({ id: 9001, name: '丢失的记录', parentid: 1 }); // what the create whose saved result was lost left
    wc.seedDept({ id: 9002, name: '别人的', parentid: 9001 });
    await claimed(9001, 1);
    await claimed(9002, 1); // claimed under 1, but WeCom's 9002 is under 9001: not ours
    expect(await sync.removeDept(9002)).toMatchObject({ result: 'out_of_scope' });
    expect(wc.getDept(9002)).toBeDefined();
    wc.removeDeptByHand(9002);
    expect(await sync.removeDept(9001)).toMatchObject({ result: 'deleted', wecomId: '9001' });
    expect(wc.getDept(9001)).toBeUndefined();
    expect(await store.get('dept', '9001')).toMatchObject({ owned: true, status: 'deleted' });
  });
});

describe('failures: permanent ones are recorded and not retried, others go back to the queue', () => {
  it('records a permanent WeCom error (mobile taken), does not retry it until the user changes', async () => {
    const { dt, wc, store, sync } = await setup();
    wc.seedUser({ userid: 'other', name: '别人', department: [1], mobile: '+86 13800000001' });
    expect(await sync.syncUser('zhangsan')).toMatchObject({ result: 'failed', errcode: WECOM_ERR.mobileExists });
    expect(wc.getUser('zhangsan')).toBeUndefined();
    expect(await store.get('user', 'zhangsan')).toMatchObject({ status: 'failed', lastErrcode: WECOM_ERR.mobileExists });
    wc.resetCalls();
    expect(await sync.syncUser('zhangsan')).toMatchObject({ result: 'failed', errcode: WECOM_ERR.mobileExists });
    expect(wecomWrites(wc)).toBe(0);
    dt.updateUser('zhangsan', { mobile: '13800000099' });
    expect(await sync.syncUser('zhangsan')).toMatchObject({ result: 'created' });
    expect((await store.get('user', 'zhangsan'))?.status).toBe('synced');
  });

  it('records a user WeCom cannot take (no mobile, no email) without calling WeCom', async () => {
    const { dt, wc, store, sync } = await setup();
    dt.addUser({ userid: 'nocontact', name: '无联系', dept_id_list: [4] });
    const outcome = await sync.syncUser('nocontact');
    expect(outcome.result).toBe('failed');
    expect(outcome.message).toMatch(/neither mobile nor email/);
    expect(wc.calls['user/create'] ?? 0).toBe(0);
    expect((await store.get('user', 'nocontact'))?.status).toBe('failed');
  });

  it('records a user whose department cannot be created, naming the department', async () => {
    const { wc, store, sync } = await setup();
    wc.failNext('department/create', WECOM_ERR.tooDeep);
    const outcome = await sync.syncUser('wangwu');
    expect(outcome).toMatchObject({ result: 'failed', errcode: WECOM_ERR.tooDeep });
    expect(outcome.message).toMatch(/^cannot place the user: department 4/);
    expect((await store.get('dept', '4'))?.status).toBe('failed');
  });

  it('throws retryable errors for the queue; the create stays claimed, not owned, and does not block the retry', async () => {
    const { wc, store, sync } = await setup();
    await sync.syncDept(4);
    wc.failNext('user/create', WECOM_ERR.systemBusy);
    await expect(sync.syncUser('wangwu')).rejects.toMatchObject({ errcode: WECOM_ERR.systemBusy, failure: 'retryable' });
    expect(await store.get('user', 'wangwu')).toMatchObject({ owned: false, status: 'failed', claim: { wecomId: 'wangwu' } });
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'created' });
    expect((await store.get('user', 'wangwu'))?.claim).toBeUndefined();
  });

  it('treats a user the DingTalk app cannot see (50002) as a configuration problem, not a departure', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncUser('zhangsan');
    dt.setOutOfScope('zhangsan', true);
    wc.resetCalls();
    expect(await sync.syncUser('zhangsan')).toMatchObject({ result: 'failed', errcode: DINGTALK_ERR.userOutOfScope });
    expect(wc.getUser('zhangsan')?.enable).toBe(1);
    expect(wecomWrites(wc)).toBe(0);
    expect(await store.get('user', 'zhangsan')).toMatchObject({ status: 'synced', lastErrcode: DINGTALK_ERR.userOutOfScope });
  });
});

describe('identity: WeCom matches userids ignoring case, the sync adopts only the same spelling', () => {
  it('a create that finds another spelling (60102) is a permanent conflict naming it: never written, never owned', async () => {
    const { dt, wc, store, sync } = await setup();
    wc.seedUser({ userid: 'Wangwu', name: '别人', department: [1], email: 'someone@example.com' });
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'failed', errcode: WECOM_ERR.useridExists, message: expect.stringMatching(/"Wangwu"/) });
    expect(wc.getUser('Wangwu')).toMatchObject({ name: '别人', department: [1] });
    const state = await store.get('user', 'wangwu');
    expect(state).toMatchObject({ owned: false, status: 'failed', lastError: expect.stringMatching(/"Wangwu"/) });
    expect(state?.claim).toBeUndefined();
    dt.removeUser('wangwu');
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'out_of_scope' });
    expect(wc.getUser('Wangwu')?.enable).toBe(1);
  });

  it('a 60102 that WeCom’s id list does not explain stays WeCom’s refusal, and the claim stays', async () => {
    const { wc, store, sync } = await setup();
    await sync.syncDept(4);
    wc.failNext('user/create', WECOM_ERR.useridExists);
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'failed', errcode: WECOM_ERR.useridExists });
    expect(wc.getUser('wangwu')).toBeUndefined();
    expect(await store.get('user', 'wangwu')).toMatchObject({ owned: false, status: 'failed', claim: { wecomId: 'wangwu' } });
  });

  it('the reconcile’s conflict is recorded once: recording it again writes nothing', async () => {
    const { store, sync } = await setup();
    expect(await sync.recordUserConflict('abc', 'conflict with Abc')).toMatchObject({ result: 'failed', errcode: WECOM_ERR.useridExists });
    const recorded = await store.get('user', 'abc');
    expect(recorded).toMatchObject({ owned: false, status: 'failed', lastError: 'conflict with Abc' });
    expect(await sync.recordUserConflict('abc', 'conflict with Abc')).toMatchObject({ result: 'failed', message: 'conflict with Abc' });
    expect((await store.get('user', 'abc'))?.version).toBe(recorded?.version);
  });
});

describe('a create whose result was never saved: the claim decides', () => {
  const claim = (store: FileStateStore, updatedAt: number, wecomId = 'wangwu') =>
    store.put({ kind: 'user', id: 'wangwu', owned: false, status: 'pending', claim: { wecomId }, updatedAt });

  it('a leaver whose claimed member WeCom lists is the sync’s own: disabled and recorded as owned', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncDept(4);
    wc.seedUser({ userid: 'wangwu', name: '王五', department: [4], email: 'wangwu@example.com' }); // what the lost create left
    await claim(store, Date.now());
    dt.removeUser('wangwu');
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'disabled' });
    expect(wc.getUser('wangwu')?.enable).toBe(0);
    expect(await store.get('user', 'wangwu')).toMatchObject({ owned: true, status: 'disabled', wecomId: 'wangwu' });
    expect((await store.get('user', 'wangwu'))?.claim).toBeUndefined();
  });

  it('a young claim with no member yet may still be creating it: retried, not judged', async () => {
    const { dt, store, sync } = await setup();
    await claim(store, Date.now());
    dt.removeUser('wangwu');
    await expect(sync.syncUser('wangwu')).rejects.toBeInstanceOf(ConcurrentWriteError);
  });

  it('an old claim with no member, or with another spelling, is not the sync’s own', async () => {
    const { dt, wc, store, sync } = await setup();
    await claim(store, Date.now() - 3 * 60_000);
    dt.removeUser('wangwu');
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'out_of_scope' });
    wc.seedUser({ userid: 'WangWu', name: '别人', department: [1], email: 'someone@example.com' });
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'out_of_scope' });
    expect(wc.getUser('WangWu')?.enable).toBe(1);
  });
});

describe('contact release: a disabled leaver gives a new owned person its mobile and email', () => {
  async function leaverHolding(rig: Rig): Promise<void> {
    await rig.sync.syncUser('zhangsan');
    rig.dt.removeUser('zhangsan');
    await rig.sync.syncUser('zhangsan');
  }

  it('releases them on a taken mobile or email, records it on the leaver, and says so in the outcome', async () => {
    const rig = await setup();
    await leaverHolding(rig);
    rig.dt.addUser({ userid: 'zhangsan2', name: '张三', mobile: '13800000001', email: 'zhangsan@example.com', dept_id_list: [3] });
    const outcome = await rig.sync.syncUser('zhangsan2');
    expect(outcome).toMatchObject({ result: 'created', notices: [{ kind: 'user', id: 'zhangsan', message: expect.stringContaining('zhangsan2') }] });
    expect(rig.wc.getUser('zhangsan')).toMatchObject({ enable: 0, email: 'zhangsan@leavers.invalid' });
    expect(rig.wc.getUser('zhangsan')?.mobile).toBeUndefined();
    expect((await rig.store.get('user', 'zhangsan'))?.releases).toEqual([
      { to: 'zhangsan2', gave: ['mobile', 'email'], placeholderEmail: 'zhangsan@leavers.invalid', at: expect.any(Number) },
    ]);
  });

  it('also for an owned person whose update needs them', async () => {
    const rig = await setup();
    await leaverHolding(rig);
    await rig.sync.syncUser('lisi');
    rig.dt.updateUser('lisi', { mobile: '13800000001' });
    expect(await rig.sync.syncUser('lisi')).toMatchObject({ result: 'updated', notices: [expect.objectContaining({ id: 'zhangsan' })] });
    expect(rig.wc.getUser('lisi')?.mobile).toBe('+86 13800000001');
  });

  it('never from an enabled account or one the sync does not own: the refusal stands', async () => {
    const rig = await setup();
    await rig.sync.syncUser('zhangsan'); // enabled, owned
    rig.wc.seedUser({ userid: 'foreign', name: '别人', department: [1], mobile: '+86 13800000002', enable: 0 });
    rig.dt.addUser({ userid: 'zhangsan2', name: '张三', mobile: '13800000001', dept_id_list: [3] });
    expect(await rig.sync.syncUser('zhangsan2')).toMatchObject({ result: 'failed', errcode: WECOM_ERR.mobileExists });
    expect(await rig.sync.syncUser('lisi')).toMatchObject({ result: 'failed', errcode: WECOM_ERR.mobileExists });
    expect(rig.wc.getUser('zhangsan')?.mobile).toBe('+86 13800000001');
    expect(rig.wc.getUser('foreign')?.mobile).toBe('+86 13800000002');
  });
});
