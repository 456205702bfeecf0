/**
 * Department writes WeCom refuses only because of the order changes arrive in (60010 circular
 * parent, 60008 a sibling's name) are settled by the sync; a real clash still fails.
 */
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../lib/errors';
import { FileStateStore } from '../../lib/local/file-store';
import type { DingTalkDept, WeComDeptRef, WeComDirectory } from '../../lib/ports';
import { DeptConflicts, type RefusedWrite, temporaryName } from '../../lib/sync/dept-conflicts';
import { DeptOperations } from '../../lib/sync/dept-context';

const operations = new DeptOperations();
const inDeptContext = operations.run.bind(operations);

import { EntityStateBook } from '../../lib/sync/entity-state';
import { WECOM_ERR } from '../../lib/wecom/errors';
import { sandboxSync } from './sandbox-sync';

const setup = sandboxSync();

describe('a move under a former descendant (60010)', () => {
  it('moves the descendant out of the way first, from DingTalk, then makes the move', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncDept(3);
    dt.updateDept(3, { parent_id: 1 }, { push: false });
    dt.updateDept(2, { parent_id: 3 }, { push: false });
    expect(await sync.syncDept(2)).toMatchObject({ result: 'updated' });
    expect(wc.getDept(3)?.parentid).toBe(1);
    expect(wc.getDept(2)?.parentid).toBe(3);
    expect(await store.get('dept', '3')).toMatchObject({ status: 'synced', dingtalkParentId: 1 });
    expect(await sync.syncDept(3)).toMatchObject({ result: 'unchanged' });
  });

  it('fails as before when the descendant is not the sync’s to move', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncDept(2);
    const foreign = wc.seedDept({ name: '手工组', parentid: 2 });
    // DingTalk now wants 2 under 4, and WeCom has 4 … under the foreign child of 2, by hand.
    await sync.syncDept(4);
    wc.moveDeptByHand(4, foreign);
    dt.updateDept(2, { parent_id: 4 }, { push: false });
    expect(await sync.syncDept(2)).toMatchObject({ result: 'failed', errcode: WECOM_ERR.deptCircular });
    expect((await store.get('dept', '2'))?.status).toBe('failed');
  });
});

describe('a name a sibling holds (60008)', () => {
  it('swaps two sibling names through a temporary name, in one message', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncDept(2);
    await sync.syncDept(4);
    dt.updateDept(2, { name: '市场部' }, { push: false });
    dt.updateDept(4, { name: '研发部' }, { push: false });
    expect(await sync.syncDept(2)).toMatchObject({ result: 'updated' });
    expect(wc.getDept(2)?.name).toBe('市场部');
    expect(wc.getDept(4)?.name).toBe('研发部');
    expect(await store.get('dept', '4')).toMatchObject({ status: 'synced', payload: { name: '研发部' } });
    expect(await sync.syncDept(4)).toMatchObject({ result: 'unchanged' });
  });

  it('creates a department whose name a sibling gone from DingTalk still holds', async () => {
    const { dt, wc, store, sync } = await setup();
    await sync.syncDept(4);
    dt.updateUser('wangwu', { dept_id_list: [2] }, { push: false });
    dt.updateUser('lisi', { dept_id_list: [2] }, { push: false });
    dt.removeDept(4, { push: false });
    dt.addDept({ dept_id: 5, name: '市场部', parent_id: 1 }, { push: false });
    expect(await sync.syncDept(5)).toMatchObject({ result: 'created' });
    expect(wc.getDept(5)?.name).toBe('市场部');
    expect(wc.getDept(4)).toBeUndefined();
    expect((await store.get('dept', '4'))?.status).toBe('deleted');
  });

  it('fails as before when the holder is a WeCom-only department: it is never renamed', async () => {
    const { wc, store, sync } = await setup();
    const foreign = wc.seedDept({ id: 9000, name: '市场部', parentid: 1 });
    expect(await sync.syncDept(4)).toMatchObject({ result: 'failed', errcode: WECOM_ERR.deptExists });
    expect(wc.getDept(foreign)?.name).toBe('市场部');
    expect(await store.get('dept', '4')).toMatchObject({ status: 'failed', lastErrcode: WECOM_ERR.deptExists });
    expect((await store.get('dept', '4'))?.wecomId).toBeUndefined();
  });

  it('fails as before when DingTalk still wants the holder to have the name (two names alike in their first 64 characters)', async () => {
    const { dt, wc, sync } = await setup();
    const long = '很长的部门名称'.repeat(10);
    dt.addDept({ dept_id: 7, name: `${long}甲`, parent_id: 1 }, { push: false });
    dt.addDept({ dept_id: 8, name: `${long}乙`, parent_id: 1 }, { push: false });
    await sync.syncDept(7);
    expect(await sync.syncDept(8)).toMatchObject({ result: 'failed', errcode: WECOM_ERR.deptExists });
    expect(wc.getDept(7)?.name).toBe(Array.from(long).slice(0, 64).join(''));
  });

  it('makes temporary names unique by the WeCom id and at most 64 characters', () => {
    expect(temporaryName('市场部', '4')).toBe('市场部~4');
    const name = '名'.repeat(64);
    expect(Array.from(temporaryName(name, '123456'))).toHaveLength(64);
    expect(temporaryName(name, '123456').endsWith('~123456')).toBe(true);
  });
});

describe('DeptConflicts on its own (a scripted WeCom)', () => {
  const err = (errcode: number) => new PlatformError('wecom', 'department/update', errcode, 'refused', 'permanent');

  async function conflicts(opts: { tree: WeComDeptRef[]; renameFails?: boolean; underLease?: () => Promise<void> }) {
    const store = new FileStateStore(undefined);
    const states = new EntityStateBook({ store, clock: { now: () => 1 } });
    const renamed: { id: number; recorded: unknown }[] = [];
    const leased: string[] = [];
    const wecom = {
      listDepts: async () => opts.tree,
      updateDept: async (p: { id: number }) => {
        if (opts.renameFails) throw err(WECOM_ERR.deptExists);
        renamed.push({ id: p.id, recorded: (await store.get('dept', String(p.id)))?.payload });
      },
    } as unknown as WeComDirectory;
    const dingtalk = { getDept: async (id: number): Promise<DingTalkDept> => ({ dept_id: id, name: '研发部', parent_id: 1 }) };
    const synced: number[] = [];
    const c = new DeptConflicts({
      dingtalk,
      wecom,
      states,
      lease: async (_kind, id, fn) => {
        leased.push(id);
        await opts.underLease?.();
        return fn();
      },
      syncDept: async (id) => {
        synced.push(id);
        return { kind: 'dept', id: String(id), result: 'updated' };
      },
    });
    const resolve = (e: unknown, write: RefusedWrite) => inDeptContext((ctx) => c.resolve(ctx, e, write));
    return { store, resolve, renamed, synced, leased };
  }
  const holder = {
    kind: 'dept' as const,
    id: '4',
    owned: true,
    wecomId: '4',
    status: 'synced' as const,
    payload: { name: '市场部', parentid: 1 },
    dingtalkParentId: 1,
    updatedAt: 0,
  };
  const siblings = [
    { id: 1, parentid: 0 },
    { id: 2, parentid: 1 },
    { id: 4, parentid: 1 },
  ];
  const write: RefusedWrite = { deptId: 2, wecomId: 2, payload: { name: '市场部', parentid: 1 } };

  it('leaves other refusals alone', async () => {
    const { resolve } = await conflicts({ tree: [] });
    expect(await resolve(err(WECOM_ERR.badDeptName), write)).toBeUndefined();
  });

  it('leaves a circular parent alone when the department that moves is not on the new parent’s way up', async () => {
    const { resolve, synced } = await conflicts({
      tree: [
        { id: 1, parentid: 0 },
        { id: 2, parentid: 1 },
        { id: 3, parentid: 1 },
      ],
    });
    expect(await resolve(err(WECOM_ERR.deptCircular), { ...write, payload: { name: '研发部', parentid: 3 } })).toBeUndefined();
    expect(synced).toEqual([]);
  });

  it('lets the original refusal stand when the holder cannot be given its temporary name', async () => {
    const { store, resolve, synced } = await conflicts({
      tree: [
        { id: 1, parentid: 0 },
        { id: 2, parentid: 1 },
        { id: 4, parentid: 1 },
      ],
      renameFails: true,
    });
    await store.put({
      kind: 'dept',
      id: '4',
      owned: true,
      wecomId: '4',
      status: 'synced',
      payload: { name: '市场部', parentid: 1 },
      dingtalkParentId: 1,
      updatedAt: 0,
    });
    expect(await resolve(err(WECOM_ERR.deptExists), write)).toBeUndefined();
    expect(synced).toEqual([]);
    expect((await store.get('dept', '4'))?.payload).toMatchObject({ name: '市场部' });
  });

  it('renames the holder under its own lease, its record saying the temporary name before WeCom is asked', async () => {
    const { store, resolve, renamed, leased } = await conflicts({ tree: siblings });
    await store.put(holder);
    const resolution = await resolve(err(WECOM_ERR.deptExists), write);
    expect(resolution).toBeDefined();
    expect(leased).toEqual(['4']);
    expect(renamed).toEqual([{ id: 4, recorded: { name: '市场部~4', parentid: 1 } }]);
  });

  it('leaves the name alone when the holder was written by another worker before its lease was taken', async () => {
    const { store, resolve, renamed } = await conflicts({
      tree: siblings,
      // The holder's own worker got there first and gave it its new name.
      underLease: async () => {
        const now = (await store.get('dept', '4'))!;
        await store.put({ ...now, payload: { name: '研发部', parentid: 1 } }, { ifVersion: now.version });
      },
    });
    await store.put(holder);
    expect(await resolve(err(WECOM_ERR.deptExists), write)).toBeUndefined();
    expect(renamed).toEqual([]);
    expect((await store.get('dept', '4'))?.payload).toMatchObject({ name: '研发部' });
  });
});
