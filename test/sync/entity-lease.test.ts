/**
 * The per-entity write lease: the helper on its own (embedded store, a clock the test moves), then
 * EntitySync holding it against the simulators: the worker backs off, the reconcile waits, and a
 * save that still finds the record changed is repaired from a fresh DingTalk read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { composeLocalService } from '../../lib/compose/local';
import { FileStateStore } from '../../lib/local/file-store';
import { createMemoryLogger } from '../../lib/log';
import type { WeComDirectory } from '../../lib/ports';
import { dingtalkReads, wecomWrites } from '../../lib/sandbox/pipeline';
import { EntitySync } from '../../lib/sync/entity';
import { ENTITY_LEASE_TTL_MS, EntityLeasedError, withEntityLease } from '../../lib/sync/entity-lease';
import { ConcurrentWriteError } from '../../lib/sync/entity-state';

function helperSetup() {
  const store = new FileStateStore(undefined);
  const clock = { t: 1_000_000, now: () => clock.t };
  const logger = createMemoryLogger();
  return { store, clock, logger, deps: { store, clock, logger } };
}

describe('withEntityLease', () => {
  it('runs the work holding the lease, and frees it afterwards, also when the work throws', async () => {
    const { store, clock, deps } = helperSetup();
    const held = await withEntityLease(deps, 'user', 'u1', async () => store.acquireLease('user', 'u1', 'someone-else', 1_000, clock.t));
    expect(held).toBe(false);
    await expect(
      withEntityLease(deps, 'user', 'u1', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.acquireLease('user', 'u1', 'someone-else', 1_000, clock.t)).toBe(true);
  });

  it('refuses at once while another holder has the lease, without running the work (the worker)', async () => {
    const { store, clock, deps } = helperSetup();
    await store.acquireLease('dept', '7', 'reconcile', ENTITY_LEASE_TTL_MS, clock.t);
    let ran = false;
    const err = await withEntityLease(deps, 'dept', '7', async () => (ran = true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EntityLeasedError);
    expect(err).toBeInstanceOf(ConcurrentWriteError); // what the worker already retries
    expect(err).toMatchObject({ kind: 'dept', id: '7' });
    expect(ran).toBe(false);
  });

  it('waits for the holder when asked, then runs', async () => {
    const { store, clock, deps } = helperSetup();
    await store.acquireLease('user', 'u1', 'worker', ENTITY_LEASE_TTL_MS, clock.t);
    setTimeout(() => void store.releaseLease('user', 'u1', 'worker'), 30);
    expect(await withEntityLease(deps, 'user', 'u1', async () => 'ran', { waitDelaysMs: [20, 20, 20, 20, 20] })).toBe('ran');
  });

  it('gives up after the last wait', async () => {
    const { store, clock, deps } = helperSetup();
    await store.acquireLease('user', 'u1', 'worker', ENTITY_LEASE_TTL_MS, clock.t);
    await expect(withEntityLease(deps, 'user', 'u1', async () => 'ran', { waitDelaysMs: [1, 1] })).rejects.toBeInstanceOf(EntityLeasedError);
  });

  it('takes over a lease whose holder died, once it has expired', async () => {
    const { store, clock, deps } = helperSetup();
    await store.acquireLease('user', 'u1', 'crashed', ENTITY_LEASE_TTL_MS, clock.t);
    clock.t += ENTITY_LEASE_TTL_MS - 1;
    await expect(withEntityLease(deps, 'user', 'u1', async () => 'ran')).rejects.toBeInstanceOf(EntityLeasedError);
    clock.t += 1;
    expect(await withEntityLease(deps, 'user', 'u1', async () => 'ran')).toBe('ran');
  });

  it('logs a release that fails instead of failing the work (the lease expires by itself)', async () => {
    const { store, deps, logger } = helperSetup();
    store.releaseLease = async () => {
      throw new Error('store unavailable');
    };
    expect(await withEntityLease(deps, 'user', 'u1', async () => 'ran')).toBe('ran');
    expect(logger.entries).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringMatching(/could not release/), kind: 'user', id: 'u1' })]);
  });
});

// ---------------------------------------------------------------------------------------------

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function syncSetup() {
  const service = await composeLocalService(
    {},
    { sandbox: true, simulators: { dingtalk: { retryDelaysMs: [] }, wecom: { rateLimitPerMinute: null } }, logger: createMemoryLogger() },
  );
  close = service.close;
  const { dingtalk, wecom, store, config, sync } = service;
  return {
    dt: service.sims!.dingtalk,
    wc: service.sims!.wecom,
    store,
    sync,
    /** EntitySync writing with `wecom`, e.g. one that holds a call. */
    syncWith: (w: WeComDirectory) => new EntitySync({ dingtalk, wecom: w, store, config }),
    /** A writer whose clock has run past our lease: as one that found it expired and took it over. */
    later: new EntitySync({ dingtalk, wecom, store, config, clock: { now: () => Date.now() + ENTITY_LEASE_TTL_MS } }),
    wecom,
  };
}

/** `wecom`, except that the first call of `method` runs `meanwhile` before it is sent. */
function holding(wecom: WeComDirectory, method: 'updateUser' | 'updateDept', meanwhile: () => Promise<unknown>): WeComDirectory {
  let held = false;
  const hold = async () => {
    if (held) return;
    held = true;
    await meanwhile();
  };
  return {
    createDept: (p) => wecom.createDept(p),
    updateDept: async (p) => {
      if (method === 'updateDept') await hold();
      return wecom.updateDept(p);
    },
    deleteDept: (id) => wecom.deleteDept(id),
    listDepts: (root) => wecom.listDepts(root),
    createUser: (p) => wecom.createUser(p),
    updateUser: async (p) => {
      if (method === 'updateUser') await hold();
      return wecom.updateUser(p);
    },
    deleteUser: (id) => wecom.deleteUser(id),
    listUserDepts: () => wecom.listUserDepts(),
  };
}

describe('EntitySync holds the lease from its DingTalk read to its save', () => {
  it('a worker message meets a held lease: ConcurrentWriteError, nothing read or written, to be retried', async () => {
    const { dt, wc, store, sync } = await syncSetup();
    await store.acquireLease('user', 'zhangsan', 'the-reconcile', ENTITY_LEASE_TTL_MS, Date.now());
    dt.resetCalls();
    await expect(sync.handle({ kind: 'user', id: 'zhangsan', eventType: 'user_add_org', eventTime: 0, corpId: 'c' })).rejects.toBeInstanceOf(
      ConcurrentWriteError,
    );
    await expect(sync.handle({ kind: 'dept', id: '2', eventType: 'org_dept_create', eventTime: 0, corpId: 'c' })).resolves.toMatchObject({ result: 'created' });
    expect(dingtalkReads(dt)).toBe(1);
    expect(wc.getUser('zhangsan')).toBeUndefined();
  });

  it('the reconcile’s entry points wait for a lease the worker holds, then write', async () => {
    const { store, sync } = await syncSetup();
    await store.acquireLease('user', 'wangwu', 'a-worker', ENTITY_LEASE_TTL_MS, Date.now());
    setTimeout(() => void store.releaseLease('user', 'wangwu', 'a-worker'), 150);
    expect(await sync.syncUser('wangwu')).toMatchObject({ result: 'created' });
  });

  it('writes data read before the record last changed (ifVersion) from a fresh read instead', async () => {
    const { dt, wc, store, sync } = await syncSetup();
    await sync.syncUser('zhangsan');
    const scanned = dt.getUser('zhangsan')!; // what a reconcile read
    const version = (await store.get('user', 'zhangsan'))!.version;
    dt.updateUser('zhangsan', { title: '架构师' }, { push: false });
    await sync.syncUser('zhangsan'); // the worker, on a newer read
    dt.updateUser('zhangsan', { title: '首席架构师' }, { push: false }); // newer still, its event not handled yet
    expect(await sync.applyUser(scanned, { ifVersion: version })).toMatchObject({ result: 'updated' });
    expect(wc.getUser('zhangsan')?.position).toBe('首席架构师');
  });
});

describe('a save that finds the record changed reads DingTalk again and writes again, forced', () => {
  it('a stale title written after a newer one is replaced by the newest', async () => {
    const { dt, wc, store, later, syncWith, wecom } = await syncSetup();
    await later.syncUser('zhangsan');
    dt.updateUser('zhangsan', { title: 'B' }, { push: false });
    const racing = syncWith(
      holding(wecom, 'updateUser', async () => {
        dt.updateUser('zhangsan', { title: 'C' }, { push: false });
        await later.syncUser('zhangsan'); // writes C, saves; then our B lands after it
      }),
    );
    wc.resetCalls();
    expect(await racing.syncUser('zhangsan')).toMatchObject({ result: 'updated' });
    expect(wc.getUser('zhangsan')?.position).toBe('C');
    expect(wc.calls['user/update']).toBe(3); // ours (B), theirs (C), ours again (C)
    expect(await store.get('user', 'zhangsan')).toMatchObject({ status: 'synced', payload: expect.objectContaining({ position: 'C' }) });
  });

  it('a leaver re-enabled by the stale write is disabled again, though the record already says disabled', async () => {
    const { dt, wc, store, later, syncWith, wecom } = await syncSetup();
    await later.syncUser('zhangsan');
    dt.updateUser('zhangsan', { title: 'B' }, { push: false });
    const racing = syncWith(
      holding(wecom, 'updateUser', async () => {
        dt.removeUser('zhangsan', { push: false });
        await later.syncUser('zhangsan'); // disables, saves `disabled`; then our enable lands
      }),
    );
    expect(await racing.syncUser('zhangsan')).toMatchObject({ result: 'disabled' });
    expect(wc.getUser('zhangsan')?.enable).toBe(0);
    expect(await store.get('user', 'zhangsan')).toMatchObject({ status: 'disabled' });
  });

  it('a department re-created by the stale write is deleted again, though the record already says deleted', async () => {
    const { dt, wc, store, later, syncWith, wecom } = await syncSetup();
    dt.addDept({ dept_id: 9, name: '空部门', parent_id: 1 }, { push: false });
    await later.syncDept(9);
    dt.updateDept(9, { name: '新名字' }, { push: false });
    const racing = syncWith(
      holding(wecom, 'updateDept', async () => {
        dt.removeDept(9, { push: false });
        await later.syncDept(9); // deletes it; our update then finds nothing and restores it
      }),
    );
    wc.resetCalls();
    expect(await racing.syncDept(9)).toMatchObject({ result: 'deleted' });
    expect(wc.calls['department/create']).toBe(1);
    expect(wc.calls['department/delete']).toBe(2);
    expect(wc.listDepts().some((d) => d.id === 9)).toBe(false);
    expect(await store.get('dept', '9')).toMatchObject({ status: 'deleted' });
    expect(wecomWrites(wc)).toBe(4);
  });
});
