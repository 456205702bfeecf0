/**
 * Found by an adversarial review of "a manager's write completes the reports waiting for them",
 * each failing when written: the reconcile's report keeps counting the lines of its own run, a
 * reporting cycle written by two workers at once waits for no lease, the second write of the race
 * guard keeps what the first did, and an unchanged person costs no extra read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { composeLocalService } from '../../lib/compose/local';
import type { FileStateStore } from '../../lib/local/file-store';
import { createMemoryLogger } from '../../lib/log';
import type { StateStore } from '../../lib/ports';
import { EntitySync } from '../../lib/sync/entity';
import { WECOM_ERR } from '../../lib/wecom/errors';
import { person, rigLifecycle } from '../correctness/rig';
import { viewOf } from '../support/store-view';

const rigs = rigLifecycle();

let closeService: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeService?.();
  closeService = undefined;
});

/** EntitySync over the simulators and the embedded store, as test/sync/entity.test.ts sets it up. */
async function service() {
  const s = await composeLocalService(
    {},
    { sandbox: true, simulators: { dingtalk: { retryDelaysMs: [] }, wecom: { rateLimitPerMinute: null } }, logger: createMemoryLogger() },
  );
  closeService = s.close;
  return {
    dt: s.sims!.dingtalk,
    wc: s.sims!.wecom,
    store: s.store as FileStateStore,
    sync: s.sync,
    /** Another worker: an EntitySync on the same clients over a view of the same store. */
    worker: (view: StateStore) => new EntitySync({ dingtalk: s.dingtalk, wecom: s.wecom, store: view, config: s.config }),
  };
}

/** Resolves once `n` callers have arrived. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    if (++arrived === n) open();
    return opened;
  };
}

const boss = { userid: 'boss', name: 'Boss', mobile: '13800009999', dept_id_list: [2] };
const rep = { userid: 'rep', name: 'Rep', mobile: '13800009998', dept_id_list: [2], manager_userid: 'boss' };

describe('review: the reconcile’s run report and the reporting lines a manager’s write completes', () => {
  it('a reporting line completed inside the manager’s operation is counted (set_leader), and one WeCom refuses is in the run report errors', async () => {
    const r = await rigs.start({}, { seed: false });
    // mgr's create is refused (permanent): rep and rep2 are written without a leader, waiting for mgr.
    let refuseMgr = true;
    let refuseRep = false;
    r.wc.setFaultPolicy((call) => {
      if (refuseMgr && call.api === 'user/create' && call.body.includes('"userid":"mgr"')) return { kind: 'errcode', errcode: WECOM_ERR.badName };
      if (refuseRep && call.api === 'user/update' && call.body.includes('"userid":"rep"')) return { kind: 'errcode', errcode: WECOM_ERR.badName };
      return undefined;
    });
    r.dt.seed({
      depts: [{ dept_id: 2, name: '研发', parent_id: 1 }],
      users: [
        person('mgr', '13900000001'),
        person('rep', '13900000002', [2], { manager_userid: 'mgr' }),
        person('rep2', '13900000003', [2], { manager_userid: 'mgr' }),
      ],
    });
    await r.reconcile();
    expect((await r.store.get('user', 'mgr'))?.status).toBe('failed');
    expect(await r.store.get('user', 'rep')).toMatchObject({ status: 'synced', leaderWithheld: 'mgr' });

    // The next run retries mgr, who is created; the write that sets rep's reporting line is refused, rep2's goes through.
    refuseMgr = false;
    refuseRep = true;
    const run = await r.reconcile();
    expect(r.wc.getUser('rep2')?.direct_leader).toEqual(['mgr']);
    expect((await r.store.get('user', 'rep'))?.status).toBe('failed');
    // The run's own pass over the waiting lines writes both, and reports what each did.
    expect(run.report.errors.map((e) => `${e.kind} ${e.id} ${e.op}`)).toContain('user rep set_leader');
    expect(run.report.counts.set_leader).toBe(1);
  });
});

describe('review: leases held while completing the people waiting for a manager', () => {
  it('two workers writing a reporting cycle (a↔b) at the same moment never ask for each other’s lease', async () => {
    const s = await service();
    s.dt.addUser({ userid: 'a', name: 'A', mobile: '13800001111', dept_id_list: [2], manager_userid: 'b' }, { push: false });
    s.dt.addUser({ userid: 'b', name: 'B', mobile: '13800002222', dept_id_list: [2], manager_userid: 'a' }, { push: false });
    await s.sync.syncDept(2);
    // Each worker has read the other as not leading yet: their saves wait for each other.
    const saved = barrier(2);
    const view = (leases: string[]) =>
      viewOf(s.store, {
        put: async (state, opts) => {
          if (state.status === 'synced' && state.leaderWithheld !== undefined) await saved();
          return s.store.put(state, opts);
        },
        acquireLease: (kind, id, owner, ttlMs, now) => {
          leases.push(`${kind} ${id}`);
          return s.store.acquireLease(kind, id, owner, ttlMs, now);
        },
      });
    const message = (id: string) => ({ kind: 'user' as const, id, eventType: 'user_add_org', eventTime: 0, corpId: 'c' });
    const leases = { a: [] as string[], b: [] as string[] };
    await Promise.all([s.worker(view(leases.a)).handle(message('a')), s.worker(view(leases.b)).handle(message('b'))]);
    expect(s.wc.getUser('a')?.direct_leader).toEqual(['b']);
    expect(s.wc.getUser('b')?.direct_leader).toEqual(['a']);
    // Holding its own lease, neither asks for the other's, which could only be waited out
    // (LEASE_WAIT_DELAYS_MS, 6.3 s): a worker never waits for a held lease (entity.ts, NO_WAIT).
    expect(new Set(leases.a)).toEqual(new Set(['user a']));
    expect(new Set(leases.b)).toEqual(new Set(['user b']));
  });
});

describe('review: the race guard (a report looks at its manager again after its save)', () => {
  it('keeps what the first write did in the outcome: created, and the leaver that gave up a mobile', async () => {
    const s = await service();
    // zhangsan leaves, keeping her mobile and email in WeCom (disabled); zhangsan2 joins with them, managed by lisi.
    await s.sync.syncUser('zhangsan');
    s.dt.removeUser('zhangsan', { push: false });
    await s.sync.syncUser('zhangsan');
    s.dt.addUser(
      { userid: 'zhangsan2', name: '张三', mobile: '13800000001', email: 'zhangsan@example.com', dept_id_list: [3], manager_userid: 'lisi' },
      { push: false },
    );
    // Another worker creates lisi between zhangsan2's write and its save, and finds nobody waiting.
    let managerWritten = false;
    const racing = viewOf(s.store, {
      put: async (state, opts) => {
        if (!managerWritten && state.id === 'zhangsan2' && state.leaderWithheld === 'lisi') {
          managerWritten = true;
          expect(await s.sync.syncUser('lisi')).toMatchObject({ result: 'created' });
        }
        return s.store.put(state, opts);
      },
    });
    const outcome = await s.worker(racing).syncUser('zhangsan2');
    expect(managerWritten).toBe(true);
    expect(s.wc.getUser('zhangsan2')?.direct_leader).toEqual(['lisi']); // the guard wrote the line…
    // …and the outcome keeps what the first write did: created, and the release notice.
    expect(outcome).toMatchObject({ result: 'created', notices: [expect.objectContaining({ kind: 'user', id: 'zhangsan' })] });
  });
});

describe('review: cost of an event for an unchanged person', () => {
  it('is the same state reads whether or not their manager can lead (no second look at the manager when nothing was saved)', async () => {
    const s = await service();
    // rep's manager boss never leads (not in WeCom); rep2's manager lead2 does.
    s.dt.addUser(boss, { push: false });
    s.dt.addUser(rep, { push: false });
    s.dt.addUser({ userid: 'lead2', name: 'Lead2', mobile: '13800009997', dept_id_list: [2] }, { push: false });
    s.dt.addUser({ ...rep, userid: 'rep2', mobile: '13800009996', manager_userid: 'lead2' }, { push: false });
    await s.sync.syncUser('lead2');
    await s.sync.syncUser('rep2');
    await s.sync.syncUser('rep');
    expect(await s.store.get('user', 'rep')).toMatchObject({ leaderWithheld: 'boss' });

    const reads: string[] = [];
    const worker = s.worker(
      viewOf(s.store, {
        get: (kind, id) => {
          reads.push(`${kind} ${id}`);
          return s.store.get(kind, id);
        },
      }),
    );
    expect(await worker.syncUser('rep2')).toMatchObject({ result: 'unchanged' });
    const led = reads.splice(0);
    expect(await worker.syncUser('rep')).toMatchObject({ result: 'unchanged' });
    // No more: applyUser looks at the manager again only after saving a record that leaves them out.
    expect(reads).toHaveLength(led.length);
  });
});
