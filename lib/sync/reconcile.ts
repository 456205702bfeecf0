/**
 * The full reconcile: first import, drift repair, failed-push recovery (issue 4).
 *
 * lock → read DingTalk's scope → read WeCom's id lists → plan (pure) → deletion guard → apply
 * through EntitySync (so outcomes are recorded exactly as the worker records them) → sweep
 * DingTalk's failed-push list onto the queue → report.
 *
 * A dry run reads and plans only: no lock, no WeCom write, no store write, and no failed-push
 * sweep (reading that list empties it, so only a run that enqueues may read it).
 *
 * Rates: DingTalk reads (and the removals, which read the entity again) stay under 20 calls/s per
 * API; WeCom operations under 10,000/min. A read DingTalk throttles is retried; a read that
 * still fails fails the run before anything is written. A configuration error while applying
 * (untrusted IP, wrong secret) stops the run: every other operation would fail the same way.
 */
import { randomUUID } from 'node:crypto';
import { concurrencyLimit, mapLimit, PerApiRateLimiter } from '../concurrency';
import type { SyncConfig } from '../config';
import { PlatformError } from '../errors';
import type { Logger } from '../log';
import {
  type ChangeMessage,
  type ChangeQueue,
  type Clock,
  type DingTalkDept,
  type DingTalkDirectory,
  type DingTalkUser,
  type FailedPushPage,
  type RunReport,
  type StateStore,
  systemClock,
  type WeComDirectory,
} from '../ports';
import type { EntitySync, SyncOutcome } from './entity';
import { DINGTALK_ROOT_DEPT_ID } from './mapping';
import { countOps, deletionGuard, type Plan, type PlanOp, planReconcile } from './plan';

export interface ReconcileDeps {
  dingtalk: DingTalkDirectory;
  wecom: WeComDirectory;
  store: StateStore;
  sync: EntitySync;
  queue: ChangeQueue;
  config: Pick<SyncConfig, 'rootDeptIds' | 'excludeDeptIds' | 'onLeave' | 'toInvite' | 'maxDeleteRatio'>;
  clock?: Clock;
  logger?: Logger;
  /** DingTalk allows 20 calls/s per app per API; kept below it by default. */
  dingtalkCallsPerSecond?: number;
  /** Parallel DingTalk reads; parallel user writes to WeCom (departments are always serial). */
  readConcurrency?: number;
  writeConcurrency?: number;
  /**
   * Waits before retrying a DingTalk read that failed retryably (throttled 90018, network, 5xx),
   * one retry per entry. Default [1000, 3000]. A read that still fails fails the run: a plan
   * made from a partial read would take the people it missed for leavers.
   */
  readRetryDelaysMs?: readonly number[];
  /**
   * WeCom allows 10,000 calls/min per API per company and blocks the rest of the window when it
   * is exceeded. Operations start no faster than this in total (default 9,000/min, leaving room
   * for the event-driven worker running at the same time); an operation is one call per API,
   * apart from the fallbacks of invariant 4 (create that finds the object becomes update, …).
   */
  wecomOpsPerMinute?: number;
}

export interface ReconcileOptions {
  dryRun?: boolean;
  allowDeletes?: boolean;
  rewriteAll?: boolean;
  onProgress?: (phase: 'read' | 'apply' | 'sweep', done: number, total: number) => void;
}

export interface ReconcileResult {
  report: RunReport;
  plan?: Plan;
  /** Milliseconds per phase, for the benchmark and the log. */
  timings: Record<string, number>;
}

const LOCK_NAME = 'reconcile';
/** Longer than the Lambda's 15-minute limit, so a crashed run's lock expires on its own. */
const LOCK_TTL_MS = 16 * 60_000;
const MAX_SWEEP_PAGES = 10_000;
const USER_PAGE = 100;

export async function runReconcile(deps: ReconcileDeps, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const clock = deps.clock ?? systemClock;
  const runId = randomUUID();
  const startedAt = clock.now();
  const timings: Record<string, number> = {};
  const dryRun = opts.dryRun ?? false;
  const report = (status: RunReport['status'], counts: Record<string, number>, errors: RunReport['errors'], message?: string): RunReport => ({
    runId,
    startedAt,
    finishedAt: clock.now(),
    status,
    dryRun,
    counts,
    errors,
    ...(message ? { message } : {}),
  });

  if (!dryRun && !(await deps.store.acquireLock(LOCK_NAME, runId, LOCK_TTL_MS, startedAt))) {
    deps.logger?.warn('reconcile already running; this run exits without doing anything');
    return { report: report('locked', {}, [], 'another reconcile is already running'), timings };
  }
  try {
    let plan: Plan;
    let t = performance.now();
    try {
      const scope = await readDingTalkScope(deps, opts.onProgress);
      timings.readDingTalk = performance.now() - t;
      t = performance.now();
      const [wecomDepts, wecomUserDepts, deptStates, userStates] = await Promise.all([
        deps.wecom.listDepts(),
        deps.wecom.listUserDepts(),
        deps.store.list('dept'),
        deps.store.list('user'),
      ]);
      timings.readWeComAndStore = performance.now() - t;
      t = performance.now();
      plan = planReconcile({
        dingtalkDepts: scope.depts,
        dingtalkUsers: scope.users,
        deptStates,
        userStates,
        wecomDepts,
        wecomUserDepts,
        config: deps.config,
        rewriteAll: opts.rewriteAll,
      });
      timings.plan = performance.now() - t;
    } catch (e) {
      const message = `could not read the directories: ${describe(e)}`;
      deps.logger?.error('reconcile failed', { error: message });
      const r = report('failed', {}, [], message);
      if (!dryRun) await deps.store.putReport(r);
      return { report: r, timings };
    }

    const counts = countOps(plan.ops);
    const guard = deletionGuard(plan, deps.config.maxDeleteRatio, opts.allowDeletes ?? false);
    if (guard.blocked) {
      deps.logger?.error('reconcile blocked by the deletion guard', { reason: guard.reason, ...counts });
      const r = report('blocked', counts, [], guard.reason);
      if (!dryRun) await deps.store.putReport(r);
      return { report: r, plan, timings };
    }
    if (dryRun) return { report: report('success', counts, [], 'dry run: nothing was written'), plan, timings };

    t = performance.now();
    const applied = await applyPlan(deps, plan.ops, opts.onProgress);
    timings.apply = performance.now() - t;

    t = performance.now();
    const sweep = await sweepFailedPushes(deps, opts.onProgress);
    timings.sweep = performance.now() - t;

    const errors = [...applied.errors, ...sweep.errors];
    const allCounts: Record<string, number> = { ...applied.counts, failed_push_enqueued: sweep.enqueued };
    if (applied.skipped > 0) allCounts.skipped = applied.skipped;
    const attempted = plan.ops.length + (sweep.errors.length ? 1 : 0);
    const status: RunReport['status'] =
      applied.stoppedBy !== undefined ? 'failed' : errors.length === 0 ? 'success' : errors.length >= attempted ? 'failed' : 'partial';
    const message =
      applied.stoppedBy !== undefined
        ? `stopped after a configuration error, ${applied.skipped} of ${plan.ops.length} operations not attempted: ${applied.stoppedBy}`
        : `${plan.ops.length} operations planned`;
    const r = report(status, allCounts, errors, message);
    await deps.store.putReport(r);
    deps.logger?.info('reconcile finished', { status, ...allCounts, errors: errors.length });
    return { report: r, plan, timings };
  } finally {
    if (!dryRun) await deps.store.releaseLock(LOCK_NAME, runId).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Every department in scope (breadth-first from the roots) and every member of each, all pages.
 * Listing a department's members starts as soon as the department is found, so the two APIs'
 * separate rate limits (20/s each) are used at the same time.
 */
export async function readDingTalkScope(
  deps: Pick<ReconcileDeps, 'dingtalk' | 'config' | 'dingtalkCallsPerSecond' | 'readConcurrency' | 'readRetryDelaysMs'>,
  onProgress?: ReconcileOptions['onProgress'],
): Promise<{ depts: DingTalkDept[]; users: DingTalkUser[] }> {
  const { dingtalk } = deps;
  const limiter = new PerApiRateLimiter(deps.dingtalkCallsPerSecond ?? 18);
  const retryDelays = deps.readRetryDelaysMs ?? [1000, 3000];
  /** One rate-limited read, retried when DingTalk says "later" rather than "no". */
  const read = async <T>(api: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await limiter.run(api, fn);
      } catch (e) {
        const delay = retryDelays[attempt];
        if (!(e instanceof PlatformError && e.retryable) || delay === undefined) throw e;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
  const concurrency = deps.readConcurrency ?? 8;
  const treeSlots = concurrencyLimit(concurrency);
  const memberSlots = concurrencyLimit(concurrency);
  const excluded = new Set(deps.config.excludeDeptIds);
  const depts = new Map<number, DingTalkDept>();
  const users = new Map<string, DingTalkUser>();
  const memberLists: Promise<void>[] = [];
  let listed = 0;

  const listMembers = (deptId: number) => {
    const listing = memberSlots(async () => {
      // Never stop at the first page: a department of 250 people is three pages.
      for (let cursor: number | undefined = 0; cursor !== undefined; ) {
        const page = await read('user/list', () => dingtalk.listUsers(deptId, cursor!, USER_PAGE));
        for (const u of page.list) users.set(u.userid, mergeListings(users.get(u.userid), u));
        cursor = page.hasMore ? page.nextCursor : undefined;
      }
      onProgress?.('read', ++listed, depts.size + 1);
    });
    // Observed now, judged below: a member read that fails while the tree walk is still running
    // (or after it failed) must not become an unhandled rejection, which would kill the process.
    listing.catch(() => undefined);
    memberLists.push(listing);
  };

  let frontier: number[] = [];
  for (const root of deps.config.rootDeptIds) {
    if (excluded.has(root) || frontier.includes(root)) continue;
    if (root !== DINGTALK_ROOT_DEPT_ID) depts.set(root, await read('department/get', () => dingtalk.getDept(root)));
    frontier.push(root);
    listMembers(root);
  }
  while (frontier.length > 0) {
    const children = await Promise.all(frontier.map((id) => treeSlots(() => read('department/listsub', () => dingtalk.listSubDepts(id)))));
    frontier = [];
    for (const d of children.flat()) {
      if (excluded.has(d.dept_id) || depts.has(d.dept_id)) continue;
      depts.set(d.dept_id, d);
      frontier.push(d.dept_id);
      listMembers(d.dept_id);
    }
  }
  await Promise.all(memberLists);
  return { depts: [...depts.values()].filter((d) => d.dept_id !== DINGTALK_ROOT_DEPT_ID), users: [...users.values()] };
}

/**
 * One person listed in several departments: where a listing gives order and leadership only for
 * its own department, the entries are combined; full lists, when given, are kept as they are.
 */
function mergeListings(seen: DingTalkUser | undefined, listed: DingTalkUser): DingTalkUser {
  if (!seen) return listed;
  const union = <T extends { dept_id: number }>(a: T[] | undefined, b: T[] | undefined): T[] | undefined => {
    if (!a || !b) return a ?? b;
    const byDept = new Map(a.map((e) => [e.dept_id, e]));
    for (const e of b) if (!byDept.has(e.dept_id)) byDept.set(e.dept_id, e);
    return [...byDept.values()];
  };
  return { ...seen, dept_order_list: union(seen.dept_order_list, listed.dept_order_list), leader_in_dept: union(seen.leader_in_dept, listed.leader_in_dept) };
}

// ---------------------------------------------------------------------------------------------
// Applying

async function applyPlan(deps: ReconcileDeps, ops: PlanOp[], onProgress?: ReconcileOptions['onProgress']) {
  const counts: Record<string, number> = {};
  const errors: RunReport['errors'] = [];
  const wecomPace = new PerApiRateLimiter((deps.wecomOpsPerMinute ?? 9000) / 60);
  // Removals read the entity from DingTalk again first (it may have come back since the scan),
  // so they are also held to DingTalk's per-API rate.
  const dingtalkPace = new PerApiRateLimiter(deps.dingtalkCallsPerSecond ?? 18);
  const paced = (op: PlanOp): Promise<SyncOutcome> => {
    const apply = () => wecomPace.run('wecom', () => applyOp(deps.sync, op));
    if (op.op === 'disable_user' || op.op === 'delete_user') return dingtalkPace.run('user/get', apply);
    if (op.op === 'delete_dept') return dingtalkPace.run('department/get', apply);
    return apply();
  };
  let done = 0;
  let skipped = 0;
  /**
   * A configuration error (untrusted IP, wrong secret, …) fails every remaining operation the
   * same way: stop starting new ones rather than make thousands of doomed calls, and say why.
   */
  let stoppedBy: string | undefined;
  const run = async (op: PlanOp): Promise<void> => {
    if (stoppedBy !== undefined) {
      skipped++;
      onProgress?.('apply', ++done, ops.length);
      return;
    }
    try {
      const outcome = await paced(op);
      if (outcome.result === 'failed') {
        errors.push({ kind: op.kind, id: op.id, op: op.op, errcode: outcome.errcode, message: outcome.message ?? 'failed' });
      } else {
        counts[op.op] = (counts[op.op] ?? 0) + 1;
      }
    } catch (e) {
      if (e instanceof PlatformError && e.failure === 'configuration') stoppedBy ??= describe(e);
      errors.push({ kind: op.kind, id: op.id, op: op.op, errcode: e instanceof PlatformError ? e.errcode : undefined, message: describe(e) });
    }
    onProgress?.('apply', ++done, ops.length);
  };
  // WeCom asks for departments to be created one at a time, parent first.
  const depts = ops.filter((o) => o.kind === 'dept' && o.op !== 'delete_dept');
  for (const op of depts) await run(op);
  // Managers before the people who report to them, so direct_leader is set in the same run.
  for (const wave of managerWaves(ops.filter((o) => o.kind === 'user'))) await mapLimit(wave, deps.writeConcurrency ?? 8, run);
  for (const op of ops.filter((o) => o.op === 'delete_dept')) await run(op);
  return { counts, errors, skipped, stoppedBy };
}

/**
 * Splits user operations into waves: a user whose manager is also written in this run goes in a
 * later wave than the manager (EntitySync only sets direct_leader to a synced user). A reporting
 * cycle in DingTalk's data is broken where it is found rather than looped on.
 */
export function managerWaves(ops: readonly PlanOp[]): PlanOp[][] {
  const byId = new Map(ops.map((o) => [o.id, o]));
  const managerOf = (o: PlanOp) => ('user' in o ? o.user.manager_userid : undefined);
  const level = new Map<string, number>();
  const visiting = new Set<string>();
  const levelOf = (o: PlanOp): number => {
    const known = level.get(o.id);
    if (known !== undefined) return known;
    if (visiting.has(o.id)) return 0; // a reporting cycle: break it here
    visiting.add(o.id);
    const m = managerOf(o);
    const managerOp = m && m !== o.id ? byId.get(m) : undefined;
    const l = managerOp ? levelOf(managerOp) + 1 : 0;
    visiting.delete(o.id);
    level.set(o.id, l);
    return l;
  };
  const waves: PlanOp[][] = [];
  for (const o of ops) {
    const l = levelOf(o);
    waves[l] ??= [];
    waves[l].push(o);
  }
  return waves.filter((w) => w !== undefined);
}

function applyOp(sync: EntitySync, op: PlanOp): Promise<SyncOutcome> {
  switch (op.op) {
    case 'disable_user':
    case 'delete_user':
      // Read the user again: it may have come back since the scan; syncUser applies SYNC_ON_LEAVE otherwise.
      return sync.syncUser(op.id);
    case 'delete_dept':
      return sync.syncDept(Number(op.id));
    default:
      // ifVersion: a worker that wrote the entity after the scan read newer data; its write stands.
      return op.kind === 'dept'
        ? sync.applyDept(op.dept, { force: op.force, adopt: op.op === 'adopt_dept', ifVersion: op.stateVersion })
        : sync.applyUser(op.user, { force: op.force, ifVersion: op.stateVersion });
  }
}

// ---------------------------------------------------------------------------------------------
// Failed-push sweep

async function sweepFailedPushes(deps: ReconcileDeps, onProgress?: ReconcileOptions['onProgress']) {
  const errors: RunReport['errors'] = [];
  let enqueued = 0;
  for (let page = 0; page < MAX_SWEEP_PAGES; page++) {
    let result: FailedPushPage;
    try {
      result = await deps.dingtalk.getFailedPushes();
    } catch (e) {
      errors.push({ kind: 'user', id: '*', op: 'failed_push_sweep', message: `could not read the failed-push list: ${describe(e)}` });
      break;
    }
    const messages: ChangeMessage[] = result.failed.flatMap((f) => [
      ...f.userIds.map((id): ChangeMessage => ({ kind: 'user', id, eventType: f.eventType, eventTime: f.eventTime, corpId: f.corpId })),
      ...f.deptIds.map((id): ChangeMessage => ({ kind: 'dept', id, eventType: f.eventType, eventTime: f.eventTime, corpId: f.corpId })),
    ]);
    if (messages.length > 0) {
      try {
        // Enqueue this page before asking for the next: the API forgets what it returned.
        await deps.queue.enqueue(messages);
        enqueued += messages.length;
      } catch (e) {
        // These entities are now known only to this report: name them so nothing is silently lost.
        for (const m of messages) errors.push({ kind: m.kind, id: m.id, op: 'failed_push_sweep', message: `could not enqueue: ${describe(e)}` });
        break;
      }
    }
    onProgress?.('sweep', enqueued, enqueued);
    if (!result.hasMore) break;
  }
  return { enqueued, errors };
}

// ---------------------------------------------------------------------------------------------

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
