/**
 * The full reconcile: first import, drift repair, and recovery of pushes DingTalk failed to
 * deliver.
 *
 * lock → read DingTalk's scope (dingtalk-scan.ts) → read WeCom's id lists → plan (pure, plan.ts)
 * → deletion guard → apply through EntitySync (apply-plan.ts) → sweep DingTalk's failed-push list
 * onto the queue (failed-push-sweep.ts) → report.
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
import type { SyncConfig } from '../config';
import type { Logger } from '../log';
import { type ChangeQueue, type Clock, type RunReport, type StateStore, systemClock, type WeComDirectory } from '../ports';
import { boundReport } from '../run-report';
import { type ApplyDeps, applyPlan } from './apply-plan';
import { deletionGuard } from './deletion-guard';
import { readDingTalkScope, type ScanDeps } from './dingtalk-scan';
import { errorText } from './error-text';
import { sweepFailedPushes } from './failed-push-sweep';
import { countOps, type Plan, planReconcile } from './plan';

/**
 * What a run needs, plus the rate and concurrency settings of its phases: reading DingTalk
 * (ScanDeps) and applying the plan (ApplyDeps).
 */
export interface ReconcileDeps extends ScanDeps, ApplyDeps {
  wecom: WeComDirectory;
  store: StateStore;
  queue: ChangeQueue;
  config: Pick<SyncConfig, 'rootDeptIds' | 'excludeDeptIds' | 'onLeave' | 'toInvite' | 'maxDeleteRatio'>;
  clock?: Clock;
  logger?: Logger;
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

export async function runReconcile(deps: ReconcileDeps, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const clock = deps.clock ?? systemClock;
  const runId = randomUUID();
  const startedAt = clock.now();
  const timings: Record<string, number> = {};
  const dryRun = opts.dryRun ?? false;
  const progress = (phase: 'read' | 'apply' | 'sweep') => (done: number, total: number) => opts.onProgress?.(phase, done, total);
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
      const scope = await readDingTalkScope(deps, progress('read'));
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
    const applied = await applyPlan(deps, plan.ops, progress('apply'));
    timings.apply = performance.now() - t;

    t = performance.now();
    const sweep = await sweepFailedPushes(deps, progress('sweep'));
    timings.sweep = performance.now() - t;

    const failures = [...applied.errors, ...sweep.errors];
    // Standing conditions, listed on every run until an administrator acts, without an operation
    // that would only fail again: departments held up by what the sync may not move, and userids
    // WeCom holds for another person. They make a run `partial`, never `failed`: the run did all
    // it could.
    const blocked = plan.blocked.map((b) => ({ kind: 'dept' as const, id: b.id, op: 'blocked', errcode: b.errcode, message: b.message }));
    const standing = [...applied.conflicts, ...blocked];
    const errors = [...failures, ...standing];
    const allCounts: Record<string, number> = { ...applied.counts, failed_push_enqueued: sweep.enqueued };
    if (applied.skipped > 0) allCounts.skipped = applied.skipped;
    if (blocked.length > 0) allCounts.blocked_dept = blocked.length;
    if (applied.conflicts.length > 0) allCounts.conflict_user = applied.conflicts.length;
    const attempted = plan.ops.length - applied.conflicts.length + (sweep.errors.length ? 1 : 0);
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
