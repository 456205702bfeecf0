/**
 * The full reconcile: first import, drift repair, and recovery of pushes DingTalk failed to
 * deliver.
 *
 * lock → read DingTalk's scope (dingtalk-scan.ts) → read the detail sweep's slice of people in
 * full (reconcile-details.ts) → read WeCom's id lists → plan (pure, plan.ts) → deletion guard →
 * read in full the people written from this run's read (new to the store) → apply through
 * EntitySync (apply-plan.ts) → save the sweep's cursor → sweep DingTalk's failed-push list onto
 * the queue (failed-push-sweep.ts) → report.
 *
 * A dry run reads and plans only: no lock, no WeCom write, no store write (the sweep's cursor
 * stays where it was), no full reads of people it would create, and no failed-push sweep
 * (reading that list empties it, so only a run that enqueues may read it).
 *
 * Rates: every call is paced by the clients at the reconcile's share of each platform's limit
 * (lib/rate-budget.ts), and a throttled call is waited out there. A read that still fails fails
 * the run before anything is written. A configuration error while applying
 * (untrusted IP, wrong secret) stops the run: every other operation would fail the same way.
 *
 * The run's id is the correlation id of everything it does (lib/trail): its log lines, the
 * history items of what it writes, and the failed pushes its sweep enqueues (whose messages carry
 * the run id beside the correlation id of the push).
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_DETAIL_SWEEP_RUNS, type SyncConfig } from '../config';
import type { Logger } from '../log';
import { type ChangeQueue, type Clock, type RunReport, type StateStore, systemClock, type WeComDirectory } from '../ports';
import { boundReport } from '../run-report';
import { runWithTrail } from '../trail/context';
import { reconcileTrail } from '../trail/trail';
import { type ApplyDeps, applyPlan } from './apply-plan';
import { deletionGuard } from './deletion-guard';
import { DETAIL_SWEEP_CURSOR } from './detail-sweep';
import { readDingTalkScope, type ScanDeps } from './dingtalk-scan';
import { errorText } from './error-text';
import { sweepFailedPushes } from './failed-push-sweep';
import { countOps, type Plan, planReconcile } from './plan';
import { DetailReads } from './reconcile-details';

/**
 * What a run needs, plus the rate and concurrency settings of its phases: reading DingTalk
 * (ScanDeps) and applying the plan (ApplyDeps).
 */
export interface ReconcileDeps extends ScanDeps, ApplyDeps {
  wecom: WeComDirectory;
  store: StateStore;
  queue: ChangeQueue;
  /** `detailSweepRuns` defaults to DEFAULT_DETAIL_SWEEP_RUNS. */
  config: Pick<SyncConfig, 'rootDeptIds' | 'excludeDeptIds' | 'onLeave' | 'toInvite' | 'maxDeleteRatio'> & Partial<Pick<SyncConfig, 'detailSweepRuns'>>;
  clock?: Clock;
  logger?: Logger;
}

export interface ReconcileOptions {
  dryRun?: boolean;
  allowDeletes?: boolean;
  rewriteAll?: boolean;
  onProgress?: (phase: 'read' | 'detail' | 'apply' | 'sweep', done: number, total: number) => void;
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

export function runReconcile(deps: ReconcileDeps, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const runId = randomUUID();
  return runWithTrail(reconcileTrail(runId), () => run(deps, opts, runId));
}

async function run(deps: ReconcileDeps, opts: ReconcileOptions, runId: string): Promise<ReconcileResult> {
  const clock = deps.clock ?? systemClock;
  const startedAt = clock.now();
  const timings: Record<string, number> = {};
  const dryRun = opts.dryRun ?? false;
  const progress = (phase: 'read' | 'detail' | 'apply' | 'sweep') => (done: number, total: number) => opts.onProgress?.(phase, done, total);
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
    let detailSweep: Awaited<ReturnType<DetailReads['sweep']>>;
    const details = new DetailReads(deps, progress('detail'));
    let t = performance.now();
    try {
      const scope = await readDingTalkScope(deps, progress('read'));
      timings.readDingTalk = performance.now() - t;
      t = performance.now();
      const runs = deps.config.detailSweepRuns ?? DEFAULT_DETAIL_SWEEP_RUNS;
      detailSweep = await details.sweep(scope.users, await deps.store.getCursor(DETAIL_SWEEP_CURSOR), runs);
      timings.detailSweep = performance.now() - t;
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
        dingtalkUsers: detailSweep.users,
        deptStates,
        userStates,
        wecomDepts,
        wecomUserDepts,
        config: deps.config,
        rewriteAll: opts.rewriteAll,
      });
      timings.plan = performance.now() - t;
    } catch (e) {
      const message = `could not read the directories: ${errorText(e)}`;
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
    const toApply = await details.forRecordWrites(plan.ops);
    timings.detailNew = performance.now() - t;

    t = performance.now();
    const applied = await applyPlan(deps, toApply.ops, progress('apply'), { reportingLinesWaiting: plan.reportingLinesWaiting });
    timings.apply = performance.now() - t;
    // The slice was read and what it showed applied: the next run reads the next one. After a
    // configuration error (reading DingTalk or writing WeCom) it was not, and the next run reads it again.
    if (applied.stoppedBy === undefined && !details.stopped && detailSweep.swept > 0 && detailSweep.cursor !== undefined) {
      await deps.store.putCursor(DETAIL_SWEEP_CURSOR, detailSweep.cursor);
    }

    t = performance.now();
    const sweep = await sweepFailedPushes(deps, progress('sweep'), { runId });
    timings.sweep = performance.now() - t;

    const failures = [...details.errors, ...applied.errors, ...sweep.errors];
    // Standing conditions, listed on every run until an administrator acts, without an operation
    // that would only fail again: departments held up by what the sync may not move, and userids
    // WeCom holds for another person. They make a run `partial`, never `failed`: the run did all
    // it could.
    const blocked = plan.blocked.map((b) => ({ kind: 'dept' as const, id: b.id, op: 'blocked', errcode: b.errcode, message: b.message }));
    const standing = [...applied.conflicts, ...blocked];
    const errors = [...failures, ...standing];
    const allCounts: Record<string, number> = {
      ...applied.counts,
      failed_push_enqueued: sweep.enqueued,
      detail_swept: detailSweep.swept,
      detail_read: details.reads,
    };
    if (applied.skipped > 0) allCounts.skipped = applied.skipped;
    if (details.skipped > 0) allCounts.detail_skipped = details.skipped;
    if (toApply.gone > 0) allCounts.gone_before_write = toApply.gone;
    if (blocked.length > 0) allCounts.blocked_dept = blocked.length;
    if (applied.conflicts.length > 0) allCounts.conflict_user = applied.conflicts.length;
    const attempted = plan.ops.length - applied.conflicts.length + details.reads + (sweep.errors.length ? 1 : 0);
    const status: RunReport['status'] =
      applied.stoppedBy !== undefined
        ? 'failed'
        : failures.length === 0
          ? standing.length === 0
            ? 'success'
            : 'partial'
          : failures.length >= attempted
            ? 'failed'
            : 'partial';
    const message =
      applied.stoppedBy !== undefined
        ? `stopped after a configuration error, ${applied.skipped} of ${plan.ops.length} operations not attempted: ${applied.stoppedBy}`
        : `${plan.ops.length} operations planned${blocked.length ? `; ${blocked.length} departments blocked` : ''}${applied.conflicts.length ? `; ${applied.conflicts.length} userid conflicts` : ''}`;
    // Bounded as the stores keep it: a run with thousands of failures still has a report to log and return.
    const r = boundReport({ ...report(status, allCounts, errors, message), ...(applied.notices.length ? { notices: applied.notices } : {}) });
    await deps.store.putReport(r);
    // A failed run is alarmed (its runs are not retried): it says so at error level; partial is a warning.
    const level = status === 'failed' ? 'error' : status === 'partial' ? 'warn' : 'info';
    deps.logger?.[level]('reconcile finished', { status, ...allCounts, errors: errors.length });
    return { report: r, plan, timings };
  } finally {
    if (!dryRun) await deps.store.releaseLock(LOCK_NAME, runId).catch(() => undefined);
  }
}
