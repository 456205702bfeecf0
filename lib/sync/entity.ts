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
 */
import type { SyncConfig } from '../config';
import type { Logger } from '../log';
import {
  type ChangeMessage,
  type Clock,
  type DingTalkDept,
  type DingTalkDirectory,
  type DingTalkUser,
  type StateStore,
  systemClock,
  type WeComDirectory,
} from '../ports';
import { type ApplyDeptOptions, DeptSync } from './dept-sync';
import { EntityStateBook } from './entity-state';
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
}

export class EntitySync {
  private readonly users: UserSync;
  private readonly depts: DeptSync;

  constructor(deps: EntitySyncDeps) {
    const { dingtalk, wecom, config, logger } = deps;
    const states = new EntityStateBook({ store: deps.store, clock: deps.clock ?? systemClock, logger });
    // Syncing one entity may sync others on the way (dept-sync.ts): through this facade, like any sync.
    const resync = { syncUser: (userid: string) => this.syncUser(userid), syncDept: (deptId: number) => this.syncDept(deptId) };
    this.depts = new DeptSync({ dingtalk, wecom, states, config, resync, logger });
    this.users = new UserSync({ dingtalk, wecom, states, depts: this.depts, config, logger });
  }

  /** One queue message: re-read the entity it names and make WeCom match. */
  handle(message: ChangeMessage): Promise<SyncOutcome> {
    if (message.kind === 'user') return this.syncUser(message.id);
    const deptId = Number(message.id);
    if (!Number.isSafeInteger(deptId) || deptId < 1) {
      return Promise.resolve({ kind: 'dept', id: message.id, result: 'failed', message: 'department id is not a positive integer' });
    }
    return this.syncDept(deptId);
  }

  /** Reads the user from DingTalk and applies it; a user gone from DingTalk is a leaver. */
  syncUser(userid: string): Promise<SyncOutcome> {
    return this.users.syncUser(userid);
  }

  /** Makes WeCom match a user already read from DingTalk (the reconcile reads whole departments at once). */
  applyUser(user: DingTalkUser, opts: ApplyUserOptions = {}): Promise<SyncOutcome> {
    return this.users.applyUser(user, opts);
  }

  /** The user is gone from DingTalk or left the scope: apply SYNC_ON_LEAVE, only to what we own. */
  userLeft(userid: string, why: string): Promise<SyncOutcome> {
    return this.users.userLeft(userid, why);
  }

  /** Reads the department from DingTalk and applies it; one gone from DingTalk is deleted in WeCom. */
  syncDept(deptId: number): Promise<SyncOutcome> {
    return this.depts.syncDept(deptId);
  }

  /** Makes WeCom match a department already read from DingTalk; see ApplyDeptOptions for `adopt`. */
  applyDept(dept: DingTalkDept, opts: ApplyDeptOptions = {}): Promise<SyncOutcome> {
    return this.depts.applyDept(dept, opts);
  }

  /** A department that is gone from DingTalk: delete its WeCom department if the sync owns it. */
  removeDept(deptId: number): Promise<SyncOutcome> {
    return this.depts.removeDept(deptId);
  }
}
