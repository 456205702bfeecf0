/**
 * The reconcile's full reads of people (`topapi/v2/user/get`). Its scan lists departments'
 * members (`v2/user/list`), and a list item does not say who a person's manager is; only
 * `user/get` does, one call per person under DingTalk's 20 calls/s for that API. Two kinds of
 * people are read in full:
 *
 * - the detail sweep's slice (detail-sweep.ts), before planning, so the plan compares and writes
 *   their reporting line: a change that no event delivered is repaired within the sweep's runs;
 * - the people the plan writes from what the run read rather than from a fresh read under their
 *   lease (those the store has no record of: a first import, adoptions), after planning, so they
 *   are created with their reporting line and their managers are written before them.
 *
 * A person read in full is read once per run. A read DingTalk throttles is retried as the scan's
 * are. One that still fails does not fail the run: the person keeps the listing's record (whose
 * manager the plan neither compares nor writes, field-provenance.ts), the failure is reported,
 * and the sweep's next round reads them again. A person gone from DingTalk since the scan is not
 * created. After a configuration error (credentials, permission) no further read is made: each
 * would fail the same way.
 */
import { concurrencyLimit } from '../concurrency';
import { isOutOfScope, isUserGone } from '../dingtalk/errors';
import { PlatformError } from '../errors';
import type { DingTalkUser, RunReport } from '../ports';
import { withRetries } from '../retry';
import { sweepSlice } from './detail-sweep';
import type { ScanDeps } from './dingtalk-scan';
import { errorText } from './error-text';
import type { PlanOp } from './plan';

/** The DingTalk client paces its own calls (lib/rate-budget.ts): reads here only bound how many are in flight. */
export type DetailDeps = Pick<ScanDeps, 'dingtalk' | 'readConcurrency' | 'readRetryDelaysMs'>;

/** What one full read gave: the record, the person gone, or a failure (reported; the listing's record stands). */
type Detail = { user: DingTalkUser } | { gone: true } | { failed: true };

export class DetailReads {
  /** `user/get` calls made, retries included. */
  reads = 0;
  /** Reads not made after a configuration error. */
  skipped = 0;
  readonly errors: RunReport['errors'] = [];
  private readonly slots: <T>(fn: () => Promise<T>) => Promise<T>;
  private readonly read = new Map<string, DingTalkUser>();
  private stoppedBy: string | undefined;

  constructor(
    private readonly deps: DetailDeps,
    private readonly onProgress?: (done: number, total: number) => void,
  ) {
    this.slots = concurrencyLimit(deps.readConcurrency ?? 8);
  }

  /**
   * The sweep: `users` (the scan's) with the next slice after `cursor` replaced by their full
   * records, and where the next run starts.
   */
  async sweep(
    users: readonly DingTalkUser[],
    cursor: string | undefined,
    runs: number,
  ): Promise<{ users: DingTalkUser[]; cursor: string | undefined; swept: number }> {
    const slice = sweepSlice(
      users.map((u) => u.userid),
      cursor,
      runs,
    );
    const details = await this.readAll(slice.userids);
    // Gone since the scan, or not read: the listing's record stands, and the plan judges it as it would have.
    const full = (u: DingTalkUser): DingTalkUser => {
      const d = details.get(u.userid);
      return d && 'user' in d ? d.user : u;
    };
    return { users: users.map(full), cursor: slice.cursor, swept: slice.userids.length };
  }

  /**
   * The plan's operations with each person written from the run's own read made from a full
   * record; those gone from DingTalk since the scan are left out (`gone` counts them).
   */
  async forRecordWrites(ops: readonly PlanOp[]): Promise<{ ops: PlanOp[]; gone: number }> {
    const wanted = ops.filter(writesFromListing).map((o) => o.id);
    const details = await this.readAll(wanted);
    let gone = 0;
    const out: PlanOp[] = [];
    for (const op of ops) {
      const d = writesFromListing(op) ? details.get(op.id) : undefined;
      if (d && 'gone' in d) gone++;
      else if (d && 'user' in d && 'user' in op) out.push({ ...op, user: d.user });
      else out.push(op);
    }
    return { ops: out, gone };
  }

  /** True once a configuration error stopped the reads: the sweep's slice was not read, and is read again next run. */
  get stopped(): boolean {
    return this.stoppedBy !== undefined;
  }

  private async readAll(userids: readonly string[]): Promise<Map<string, Detail>> {
    const out = new Map<string, Detail>();
    let done = 0;
    await Promise.all(
      userids.map((id) =>
        this.slots(async () => {
          out.set(id, await this.readOne(id));
          this.onProgress?.(++done, userids.length);
        }),
      ),
    );
    return out;
  }

  private async readOne(userid: string): Promise<Detail> {
    const known = this.read.get(userid);
    if (known) return { user: known };
    if (this.stoppedBy !== undefined) {
      this.skipped++;
      return { failed: true };
    }
    const retry = { delaysMs: this.deps.readRetryDelaysMs ?? [1000, 3000], retryable: (e: unknown) => e instanceof PlatformError && e.retryable };
    try {
      const user = await withRetries(retry, () => {
        this.reads++;
        return this.deps.dingtalk.getUser(userid);
      });
      this.read.set(userid, user);
      return { user };
    } catch (e) {
      if (isUserGone(e)) return { gone: true };
      if (!(e instanceof PlatformError)) throw e;
      // Out of the app's visible range is this one person's matter; any other configuration error is everyone's.
      if (e.failure === 'configuration' && !isOutOfScope(e)) this.stoppedBy ??= errorText(e);
      this.errors.push({ kind: 'user', id: userid, op: 'read_detail', errcode: e.errcode, message: errorText(e) });
      return { failed: true };
    }
  }
}

/** A person the plan writes from the run's read rather than from a fresh one (apply-plan.ts), read from a listing. */
function writesFromListing(op: PlanOp): op is Extract<PlanOp, { user: DingTalkUser }> {
  return 'user' in op && op.stateVersion === 0 && (op.user.unknownFields?.includes('manager_userid') ?? false);
}
