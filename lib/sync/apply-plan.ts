/**
 * Applying a reconcile plan through EntitySync, so outcomes are recorded exactly as the worker
 * records them: departments first (one at a time, parent first), then leavers, then the other
 * users in manager waves (those refused a mobile or email another holds once more at the end),
 * then department deletions (children first, as planned). Every call, the fresh DingTalk reads
 * and the WeCom writes, is paced by the clients (lib/rate-budget.ts) under the reconcile's share
 * of each platform's limit.
 *
 * A write to an entity the store has a record of is made from a fresh DingTalk read under the
 * entity's lease, never from the scan: a worker may have written newer data since the scan, and
 * the stale scan would overwrite it for good. A person the store had no record of is written from
 * the run's own read (checked again under the lease): no write to it exists that the read could
 * be older than; that read is a full `user/get` made before applying (reconcile-details.ts), so
 * the manager waves below know every new person's manager. Departments are always read again
 * (`department/get`): the scan's `listsub` has no order, and a department created without it
 * would keep WeCom's default order for good (only events write order afterwards).
 */
import { mapLimit } from '../concurrency';
import { PlatformError } from '../errors';
import type { RunReport } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import type { EntitySync, SyncOutcome } from './entity';
import { errorText } from './error-text';
import type { PlanOp } from './plan';

export interface ApplyDeps {
  sync: Pick<EntitySync, 'syncUser' | 'syncDept' | 'applyUser' | 'recordUserConflict' | 'completeReportingLine'>;
  /** Parallel user writes to WeCom (departments are always serial). */
  writeConcurrency?: number;
}

interface ApplyResult {
  /** Operations that succeeded, per kind. */
  counts: Record<string, number>;
  errors: RunReport['errors'];
  /**
   * Standing conflicts recorded (a userid WeCom holds for another person): reported on every run
   * until someone acts, but not failures of this run.
   */
  conflicts: RunReport['errors'];
  /** What the operations did to other entities on the way (a leaver giving a rehire its mobile). */
  notices: NonNullable<RunReport['notices']>;
  /** Operations not attempted after a configuration error. */
  skipped: number;
  /** The configuration error that stopped the run, if one did. */
  stoppedBy: string | undefined;
}

/** WeCom's refusals of a mobile or an email another member holds. */
const CONTACT_TAKEN: ReadonlySet<number> = new Set([WECOM_ERR.mobileExists, WECOM_ERR.emailExists]);

/**
 * `onProgress` counts operations done (attempted or skipped) out of all. `reportingLinesWaiting`:
 * the plan's people whose manager could not lead when they were last written.
 */
export async function applyPlan(
  deps: ApplyDeps,
  ops: PlanOp[],
  onProgress?: (done: number, total: number) => void,
  opts: { reportingLinesWaiting?: readonly string[] } = {},
): Promise<ApplyResult> {
  const counts: Record<string, number> = {};
  const errors: RunReport['errors'] = [];
  const conflicts: RunReport['errors'] = [];
  const notices: NonNullable<RunReport['notices']> = [];
  let done = 0;
  let skipped = 0;
  /**
   * A configuration error (untrusted IP, wrong secret, …) fails every remaining operation the
   * same way: stop starting new ones rather than make thousands of doomed calls, and say why.
   */
  let stoppedBy: string | undefined;
  /**
   * People WeCom refused a mobile or email another member holds: that member may give it up
   * later in this very run (a colleague whose details changed, written in the same wave), so each
   * is tried once more, read again and forced, after everyone else.
   */
  const lastTries: PlanOp[] = [];
  /**
   * People written without a manager who could not lead then: those the plan knew of, and those
   * this run's writes withheld one from (a listing names no manager, so the waves cannot always
   * put the manager first: a manager retried in the same run may come after their report).
   */
  const reportingLinesWaiting = new Set(opts.reportingLinesWaiting);
  const concurrency = deps.writeConcurrency ?? 8;
  /** A write that threw: reported; a configuration error stops the operations not yet started. */
  const thrown = (at: { kind: PlanOp['kind']; id: string; op: string }, e: unknown): void => {
    if (e instanceof PlatformError && e.failure === 'configuration') stoppedBy ??= errorText(e);
    errors.push({ ...at, errcode: e instanceof PlatformError ? e.errcode : undefined, message: errorText(e) });
  };
  const lastTry = (op: PlanOp): Promise<SyncOutcome> => {
    const releaseFrom = 'releaseFrom' in op ? (op.releaseFrom ?? []) : [];
    return deps.sync.syncUser(op.id, { force: true, releaseFrom });
  };
  const run = async (op: PlanOp, last = false): Promise<void> => {
    if (stoppedBy !== undefined) {
      skipped++;
      onProgress?.(++done, ops.length);
      return;
    }
    try {
      const outcome = await (last ? lastTry(op) : applyOp(deps.sync, op));
      notices.push(...(outcome.notices ?? []));
      if (outcome.leaderWithheld !== undefined) reportingLinesWaiting.add(op.id);
      if (outcome.result === 'failed' && !last && op.kind === 'user' && CONTACT_TAKEN.has(outcome.errcode ?? 0)) {
        lastTries.push(op); // counted when it is tried again
        return;
      }
      if (outcome.result === 'failed') {
        const error = { kind: op.kind, id: op.id, op: op.op, errcode: outcome.errcode, message: outcome.message ?? 'failed' };
        (op.op === 'conflict_user' ? conflicts : errors).push(error);
      } else {
        counts[op.op] = (counts[op.op] ?? 0) + 1;
      }
    } catch (e) {
      thrown({ kind: op.kind, id: op.id, op: op.op }, e);
    }
    onProgress?.(++done, ops.length);
  };
  // WeCom asks for departments to be created one at a time, parent first.
  const depts = ops.filter((o) => o.kind === 'dept' && o.op !== 'delete_dept');
  for (const op of depts) await run(op);
  // Leavers before everyone else: a person may need a mobile or email a leaver gives up once disabled.
  const isRemoval = (o: PlanOp) => o.op === 'disable_user' || o.op === 'delete_user';
  await mapLimit(
    ops.filter((o) => o.kind === 'user' && isRemoval(o)),
    concurrency,
    (op) => run(op),
  );
  // Managers before the people who report to them, so direct_leader is set in the same run.
  for (const wave of managerWaves(ops.filter((o) => o.kind === 'user' && !isRemoval(o)))) await mapLimit(wave, concurrency, (op) => run(op));
  for (const op of lastTries) await run(op, true);
  // Managers created, re-enabled or retried above can lead now: the people written without them
  // get their reporting line in this same run (no event tells of it).
  await mapLimit([...reportingLinesWaiting], concurrency, async (id) => {
    if (stoppedBy !== undefined) return;
    try {
      const outcome = await deps.sync.completeReportingLine(id);
      if (outcome.result === 'failed') errors.push({ kind: 'user', id, op: 'set_leader', errcode: outcome.errcode, message: outcome.message ?? 'failed' });
      else if (outcome.result !== 'unchanged') counts.set_leader = (counts.set_leader ?? 0) + 1;
    } catch (e) {
      thrown({ kind: 'user', id, op: 'set_leader' }, e);
    }
  });
  for (const op of ops.filter((o) => o.op === 'delete_dept')) await run(op);
  return { counts, errors, conflicts, notices, skipped, stoppedBy };
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

function applyOp(sync: ApplyDeps['sync'], op: PlanOp): Promise<SyncOutcome> {
  switch (op.op) {
    case 'disable_user':
    case 'delete_user':
      // Read the user again: it may have come back since the scan; syncUser applies SYNC_ON_LEAVE otherwise.
      return sync.syncUser(op.id);
    case 'delete_dept':
      return sync.syncDept(Number(op.id));
    case 'conflict_user':
      return sync.recordUserConflict(op.id, op.changes);
    default: {
      // releaseFrom: the plan has already found the leavers that may hold the user's contact details.
      const releaseFrom = op.kind === 'user' ? { releaseFrom: op.releaseFrom ?? [] } : {};
      if (op.stateVersion === 0 && op.kind === 'user') {
        // ifVersion 0: should a record appear before the lease is taken, EntitySync reads DingTalk again.
        return sync.applyUser(op.user, { force: op.force, ifVersion: 0, ...releaseFrom });
      }
      return op.kind === 'dept' ? sync.syncDept(Number(op.id), { force: op.force }) : sync.syncUser(op.id, { force: op.force, ...releaseFrom });
    }
  }
}
