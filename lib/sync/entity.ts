/**
 * Syncing one user or department: read its current state from DingTalk, make WeCom match it,
 * remember what was written. A message only says the entity may have changed (the worker re-reads
 * it), so every path here is idempotent: duplicates and reordering converge on the same WeCom state.
 *
 * Failures: retryable and configuration errors are thrown (the message goes back to the queue;
 * configuration ones are logged loudly with what to fix); permanent data errors are recorded in
 * the store and returned as a `failed` outcome, so the message is acknowledged.
 *
 * This is the facade the worker and the reconcile use; the work is done by UserSync
 * (user-sync.ts), DeptSync (dept-sync.ts) and the state bookkeeping (entity-state.ts).
 *
 * Every entry point holds the entity's write lease (entity-lease.ts) from its DingTalk read to its
 * save, so the worker and the reconcile never interleave writes to one entity. The worker does
 * not wait for a held lease (its message is retried); the reconcile waits a few seconds. A save
 * that still finds the record changed (a holder whose lease had expired) means WeCom may hold
 * either write: the entity is read from DingTalk again and written again, forced. A department
 * a user's sync creates on the way (ensureDept) is guarded by its pending claim, a conditional
 * write, rather than by its lease.
 *
 * Every entry point's outcome is recorded (lib/history/audit.ts): an item in the entity's
 * history, the outcome metrics and a `sync outcome` log line, under the trail in force.
 */
import type { SyncConfig } from '../config';
import { SyncAudit } from '../history/audit';
import type { HistoryStore } from '../history/history';
import type { Logger } from '../log';
import type { MetricsRecorder } from '../metrics/metrics';
import {
  type ChangeMessage,
  type Clock,
  type DingTalkDept,
  type DingTalkDirectory,
  type DingTalkUser,
  type EntityKind,
  type StateStore,
  systemClock,
  type WeComDirectory,
} from '../ports';
import { ContactReleaser } from './contact-release';
import { type ApplyDeptOptions, DeptSync } from './dept-sync';
import { type EntityLeaseDeps, LEASE_WAIT_DELAYS_MS, withEntityLease } from './entity-lease';
import { EntityStateBook, StaleSaveError } from './entity-state';
import type { SyncOutcome } from './outcome';
import { type ApplyUserOptions, UserSync } from './user-sync';

export type { SyncOutcome, SyncResult } from './outcome';

export interface EntitySyncDeps {
  dingtalk: DingTalkDirectory;
  wecom: WeComDirectory;
  store: StateStore;
  config: Pick<SyncConfig, 'onLeave' | 'rootDeptIds' | 'excludeDeptIds' | 'toInvite'>;
  clock?: Clock;
  logger?: Logger;
  /** Where each outcome is kept; none: outcomes are only logged. */
  history?: HistoryStore;
  metrics?: MetricsRecorder;
}

/** The worker does not wait for a held lease: its message comes back after the visibility timeout. */
const NO_WAIT: readonly number[] = [];

export class EntitySync {
  private readonly users: UserSync;
  private readonly depts: DeptSync;
  private readonly leases: EntityLeaseDeps;
  private readonly store: StateStore;
  private readonly audit: SyncAudit;

  constructor(deps: EntitySyncDeps) {
    const { dingtalk, wecom, config, logger } = deps;
    const clock = deps.clock ?? systemClock;
    const states = new EntityStateBook({ store: deps.store, clock, logger });
    // Syncing one entity may sync others on the way (dept-sync.ts): through this facade, like any sync.
    const resync = {
      syncUser: (userid: string, opts?: Pick<ApplyUserOptions, 'force'>) => this.syncUser(userid, opts),
      syncDept: (deptId: number) => this.syncDept(deptId),
    };
    // Another entity written on the way (a sibling renamed to free its name) is written under its own lease.
    const lease = <T>(kind: EntityKind, id: string, fn: () => Promise<T>) => withEntityLease(this.leases, kind, id, fn, { waitDelaysMs: LEASE_WAIT_DELAYS_MS });
    this.depts = new DeptSync({ dingtalk, wecom, states, config, resync, lease, logger });
    const contacts = new ContactReleaser({ wecom, states, clock, logger });
    this.users = new UserSync({ dingtalk, wecom, states, depts: this.depts, contacts, config, resync, logger });
    this.leases = { store: deps.store, clock, logger };
    this.store = deps.store;
    this.audit = new SyncAudit({ history: deps.history, metrics: deps.metrics, clock, logger });
  }

  /** One queue message: re-read the entity it names and make WeCom match. A held lease is not waited for. */
  handle(message: ChangeMessage): Promise<SyncOutcome> {
    if (message.kind === 'user') return this.leased('user', message.id, NO_WAIT, () => this.users.syncUser(message.id));
    const deptId = Number(message.id);
    if (!Number.isSafeInteger(deptId) || deptId < 1) {
      return Promise.resolve({ kind: 'dept', id: message.id, result: 'failed', message: 'department id is not a positive integer' });
    }
    return this.leased('dept', String(deptId), NO_WAIT, () => this.depts.syncDept(deptId));
  }

  /** Reads the user from DingTalk and applies it; a user gone from DingTalk is a leaver. */
  syncUser(userid: string, opts: Pick<ApplyUserOptions, 'force' | 'releaseFrom'> = {}): Promise<SyncOutcome> {
    return this.leased('user', userid, LEASE_WAIT_DELAYS_MS, () => this.users.syncUser(userid, opts));
  }

  /**
   * Makes WeCom match a user already read from DingTalk (the reconcile reads whole departments
   * at once). With `ifVersion`, data read before the store's record last changed is not written:
   * the user is read from DingTalk again instead.
   */
  applyUser(user: DingTalkUser, opts: ApplyUserOptions = {}): Promise<SyncOutcome> {
    return this.leased('user', user.userid, LEASE_WAIT_DELAYS_MS, async () =>
      (await this.recordChanged('user', user.userid, opts.ifVersion))
        ? this.users.syncUser(user.userid, { force: opts.force, releaseFrom: opts.releaseFrom })
        : this.users.applyUser(user, opts),
    );
  }

  /** The user is gone from DingTalk or left the scope: apply SYNC_ON_LEAVE, only to what we own. */
  userLeft(userid: string, why: string): Promise<SyncOutcome> {
    return this.leased('user', userid, LEASE_WAIT_DELAYS_MS, () => this.users.userLeft(userid, why));
  }

  /**
   * The reconcile found that WeCom's member for this userid is another person's (spelled
   * differently, or held by another DingTalk user): recorded as a permanent conflict, described
   * by `message`, never adopted; no WeCom call.
   */
  recordUserConflict(userid: string, message: string): Promise<SyncOutcome> {
    return this.leased('user', userid, LEASE_WAIT_DELAYS_MS, () => this.users.recordUserConflict(userid, message));
  }

  /** Writes the user again, reporting line included, once the manager their last write left out can lead (user-sync.ts). */
  completeReportingLine(userid: string): Promise<SyncOutcome> {
    return this.leased('user', userid, LEASE_WAIT_DELAYS_MS, () => this.users.completeReportingLine(userid));
  }

  /** Reads the department from DingTalk and applies it; one gone from DingTalk is deleted in WeCom. */
  syncDept(deptId: number, opts: Pick<ApplyDeptOptions, 'force'> = {}): Promise<SyncOutcome> {
    return this.leased('dept', String(deptId), LEASE_WAIT_DELAYS_MS, () => this.depts.syncDept(deptId, opts));
  }

  /**
   * Makes WeCom match a department already read from DingTalk; see applyUser for `ifVersion`.
   */
  applyDept(dept: DingTalkDept, opts: ApplyDeptOptions = {}): Promise<SyncOutcome> {
    const id = String(dept.dept_id);
    return this.leased('dept', id, LEASE_WAIT_DELAYS_MS, async () =>
      (await this.recordChanged('dept', id, opts.ifVersion)) ? this.depts.syncDept(dept.dept_id, { force: opts.force }) : this.depts.applyDept(dept, opts),
    );
  }

  /** A department that is gone from DingTalk: delete its WeCom department if the sync owns it. */
  removeDept(deptId: number): Promise<SyncOutcome> {
    return this.leased('dept', String(deptId), LEASE_WAIT_DELAYS_MS, () => this.depts.removeDept(deptId));
  }

  /**
   * Runs `work` under the entity's lease. When its save finds the record changed, the other
   * writer's WeCom write may have landed before or after this one: read DingTalk again and write
   * what it says, forced, whatever the record claims WeCom holds.
   */
  private leased(kind: EntityKind, id: string, waitDelaysMs: readonly number[], work: () => Promise<SyncOutcome>): Promise<SyncOutcome> {
    return this.audit.run(kind, id, () =>
      withEntityLease(
        this.leases,
        kind,
        id,
        async () => {
          try {
            return await work();
          } catch (e) {
            if (!(e instanceof StaleSaveError)) throw e;
            this.leases.logger?.warn('state changed during the write; reading DingTalk again and writing again', { kind, id });
            return kind === 'user' ? this.users.syncUser(id, { force: true }) : this.depts.syncDept(Number(id), { force: true });
          }
        },
        { waitDelaysMs },
      ),
    );
  }

  /** True when the record is no longer at `ifVersion` (undefined: no such check asked for). */
  private async recordChanged(kind: EntityKind, id: string, ifVersion: number | undefined): Promise<boolean> {
    if (ifVersion === undefined) return false;
    return ((await this.store.get(kind, id))?.version ?? 0) !== ifVersion;
  }
}
