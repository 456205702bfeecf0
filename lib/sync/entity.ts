/**
 * Syncing one user or department: read its current state from DingTalk, make WeCom match it,
 * remember what was written. Messages only say "this may have changed" (invariant 3), so every
 * path here is idempotent: duplicates and reordering converge on the same WeCom state.
 *
 * Failures: retryable and configuration errors are thrown (the message goes back to the queue;
 * configuration ones are logged loudly with what to fix); permanent data errors are recorded in
 * the store and returned as a `failed` outcome, so the message is acknowledged.
 */
import type { SyncConfig } from '../config';
import { isDeptGone, isOutOfScope, isUserGone } from '../dingtalk/errors';
import { isPlatformError, PlatformError } from '../errors';
import type { Logger } from '../log';
import {
  type ChangeMessage,
  type Clock,
  type DingTalkDept,
  type DingTalkDirectory,
  type DingTalkUser,
  type EntityKind,
  type EntityState,
  type EntityStatus,
  StaleStateError,
  type StateStore,
  systemClock,
  type WeComDeptPayload,
  type WeComDirectory,
  type WeComUserPayload,
} from '../ports';
import { DINGTALK_ROOT_DEPT_ID, MappingError, mapDept, mapUser, WECOM_ROOT_DEPT_ID, wecomDeptIdFor } from './mapping';
import { deptPayloadHash, payloadHash } from './payload-hash';

export type SyncResult = 'created' | 'updated' | 'adopted' | 'unchanged' | 'disabled' | 'deleted' | 'ignored' | 'out_of_scope' | 'failed';

export interface SyncOutcome {
  kind: EntityKind;
  id: string;
  result: SyncResult;
  wecomId?: string;
  errcode?: number;
  message?: string;
}

export interface EntitySyncDeps {
  dingtalk: DingTalkDirectory;
  wecom: WeComDirectory;
  store: StateStore;
  config: Pick<SyncConfig, 'onLeave' | 'rootDeptIds' | 'excludeDeptIds' | 'toInvite'>;
  clock?: Clock;
  logger?: Logger;
}

/** Where a disabled leaver is kept in WeCom: the root, out of every department that may go. */
const LEAVERS_PLACEMENT = { department: [WECOM_ROOT_DEPT_ID], order: [0], is_leader_in_dept: [0] };

/** A claim older than this was left by a worker that died mid-create and may be taken over. */
const PENDING_CLAIM_TTL_MS = 2 * 60_000;

/** Thrown when another worker holds the claim on an entity: the message is retried later. */
class ConcurrentWriteError extends Error {
  override readonly name = 'ConcurrentWriteError';
}

/**
 * `ifVersion` callers (the reconcile) read DingTalk before someone else — the worker, on a newer
 * event — wrote this entity: that write came from a newer read, so it stands.
 */
function changedSinceRead(kind: EntityKind, id: string, state: EntityState | undefined): SyncOutcome {
  return { kind, id, result: 'unchanged', wecomId: state?.wecomId, message: 'written by the worker since this data was read; left as it is' };
}

export class EntitySync {
  private readonly clock: Clock;
  private readonly roots: Set<number>;
  private readonly excluded: Set<number>;

  constructor(private readonly deps: EntitySyncDeps) {
    this.clock = deps.clock ?? systemClock;
    this.roots = new Set(deps.config.rootDeptIds);
    this.excluded = new Set(deps.config.excludeDeptIds);
  }

  handle(message: ChangeMessage): Promise<SyncOutcome> {
    if (message.kind === 'user') return this.syncUser(message.id);
    const deptId = Number(message.id);
    if (!Number.isSafeInteger(deptId) || deptId < 1) {
      return Promise.resolve({ kind: 'dept', id: message.id, result: 'failed', message: 'department id is not a positive integer' });
    }
    return this.syncDept(deptId);
  }

  // -------------------------------------------------------------------------------------------
  // Users

  async syncUser(userid: string): Promise<SyncOutcome> {
    let user: DingTalkUser;
    try {
      user = await this.deps.dingtalk.getUser(userid);
    } catch (e) {
      if (isUserGone(e)) return this.userLeft(userid, 'no longer exists in DingTalk');
      if (isOutOfScope(e)) {
        // Not a departure: the DingTalk app simply cannot see this user. Change nothing in WeCom.
        return this.recordConfigurationProblem(
          'user',
          userid,
          e,
          "outside the DingTalk app's visible range: widen the app's contact scope in the DingTalk console",
        );
      }
      throw e;
    }
    return this.applyUser(user);
  }

  /**
   * Makes WeCom match a user already read from DingTalk (the reconcile reads whole departments
   * at once and calls this). `force` writes even when the stored hash says nothing changed:
   * for drift that only WeCom's id lists reveal, or an operator's rewrite-all.
   */
  async applyUser(user: DingTalkUser, opts: { force?: boolean; ifVersion?: number } = {}): Promise<SyncOutcome> {
    const { store } = this.deps;
    const userid = user.userid;

    const deptMap = new Map<number, number>();
    for (const dingDeptId of user.dept_id_list) {
      let wecomDeptId: number | undefined;
      try {
        wecomDeptId = await this.ensureDept(dingDeptId, new Set());
      } catch (e) {
        if (!(e instanceof PlatformError && e.failure === 'permanent')) throw e;
        const state = await store.get('user', userid);
        return this.recordPermanent('user', userid, state, { errcode: e.errcode, message: `cannot place the user: ${e.errmsg}`, payloadHash: undefined });
      }
      if (wecomDeptId !== undefined) deptMap.set(dingDeptId, wecomDeptId);
    }
    if (deptMap.size === 0) return this.userLeft(userid, 'is outside the sync scope');

    const manager = user.manager_userid;
    let managerSynced = false;
    if (manager && manager !== userid) {
      const m = await store.get('user', manager);
      managerSynced = !!m && m.owned && m.status === 'synced';
    }

    const state = await store.get('user', userid);
    if (opts.ifVersion !== undefined && (state?.version ?? 0) !== opts.ifVersion) return changedSinceRead('user', userid, state);
    let payload: WeComUserPayload;
    try {
      payload = mapUser(user, {
        wecomDeptId: (id) => deptMap.get(id),
        isSyncedUser: (id) => id === manager && managerSynced,
        toInvite: this.deps.config.toInvite,
      });
    } catch (e) {
      if (!(e instanceof MappingError)) throw e;
      return this.recordPermanent('user', userid, state, { message: e.message, payloadHash: undefined });
    }

    const hash = payloadHash(payload);
    // A permanent failure is not retried until the entity changes (or a reconcile runs).
    if (!opts.force && state?.payloadHash === hash && (state.status === 'synced' || state.status === 'failed')) {
      return {
        kind: 'user',
        id: userid,
        result: state.status === 'failed' ? 'failed' : 'unchanged',
        wecomId: state.wecomId,
        errcode: state.lastErrcode,
        message: state.lastError,
      };
    }

    const { wecom } = this.deps;
    const update = (): Promise<void> => {
      const { to_invite: _invitationIsForCreateOnly, ...fields } = payload;
      return wecom.updateUser(fields);
    };
    let result: SyncResult;
    try {
      if (state?.owned && state.wecomId && state.status !== 'deleted') {
        try {
          await update();
          result = 'updated';
        } catch (e) {
          if (!isPlatformError(e, 60111)) throw e;
          await wecom.createUser(payload); // removed in WeCom behind our back: create again
          result = 'created';
        }
      } else {
        try {
          await wecom.createUser(payload);
          result = 'created';
        } catch (e) {
          if (!isPlatformError(e, 60102)) throw e;
          await update(); // the userid already exists: take it over (invariant 4)
          result = 'adopted';
        }
      }
    } catch (e) {
      return this.onWriteError('user', userid, state, hash, e);
    }
    await this.save(state, { kind: 'user', id: userid, wecomId: userid, owned: true, status: 'synced', payloadHash: hash, payload });
    this.deps.logger?.info('user synced', { userid, result });
    return { kind: 'user', id: userid, result, wecomId: userid };
  }

  /** The user is gone from DingTalk or left the scope: apply SYNC_ON_LEAVE, only to what we own. */
  async userLeft(userid: string, why: string): Promise<SyncOutcome> {
    const { store, wecom, config } = this.deps;
    const state = await store.get('user', userid);
    if (!state?.owned || !state.wecomId) {
      return { kind: 'user', id: userid, result: 'out_of_scope', message: `user ${why}; not owned by the sync, nothing to do` };
    }
    const policy = config.onLeave;
    if (policy === 'ignore' || state.status === 'deleted' || (policy === 'disable' && state.status === 'disabled')) {
      if (policy === 'ignore' && state.status !== 'ignored' && state.status !== 'deleted') {
        await this.save(state, { ...state, status: 'ignored' });
      }
      return { kind: 'user', id: userid, result: 'unchanged', wecomId: state.wecomId };
    }
    try {
      if (policy === 'delete') {
        await wecom.deleteUser(state.wecomId);
      } else {
        try {
          // Disabled members stay members: moved to WeCom's root, they no longer keep their old
          // departments from being deleted (60005) once those go in DingTalk.
          await wecom.updateUser({ userid: state.wecomId, enable: 0, ...LEAVERS_PLACEMENT });
        } catch (e) {
          if (!isPlatformError(e, 60111) && !isPlatformError(e, 46004)) throw e;
          await this.save(state, { ...state, status: 'deleted', payloadHash: undefined });
          return { kind: 'user', id: userid, result: 'deleted', wecomId: state.wecomId, message: 'already gone from WeCom' };
        }
      }
    } catch (e) {
      return this.onWriteError('user', userid, state, state.payloadHash, e);
    }
    const status = policy === 'delete' ? 'deleted' : 'disabled';
    const payload = policy === 'delete' ? state.payload : { ...(state.payload as WeComUserPayload), enable: 0 as const, ...LEAVERS_PLACEMENT };
    // Clear the hash: a user who comes back must be written again (re-enabled).
    await this.save(state, { ...state, status, payload, payloadHash: undefined, lastErrcode: undefined, lastError: undefined });
    this.deps.logger?.info('user left', { userid, why, result: status });
    return { kind: 'user', id: userid, result: status, wecomId: state.wecomId };
  }

  // -------------------------------------------------------------------------------------------
  // Departments

  async syncDept(deptId: number): Promise<SyncOutcome> {
    const id = String(deptId);
    if (this.isRootMappedToWeComRoot(deptId)) {
      // WeCom's root is the company itself; the sync never renames it.
      return { kind: 'dept', id, result: 'unchanged', wecomId: String(WECOM_ROOT_DEPT_ID) };
    }
    const state = await this.deps.store.get('dept', id);
    if (this.excluded.has(deptId)) return this.deptLeft(deptId, state, 'is excluded by SYNC_EXCLUDE_DEPT_IDS', false);
    let dept: DingTalkDept;
    try {
      dept = await this.deps.dingtalk.getDept(deptId);
    } catch (e) {
      if (isDeptGone(e)) return this.deptLeft(deptId, state, 'no longer exists in DingTalk', true);
      if (isOutOfScope(e)) {
        return this.recordConfigurationProblem(
          'dept',
          id,
          e,
          "outside the DingTalk app's visible range: widen the app's contact scope in the DingTalk console",
        );
      }
      throw e;
    }
    return this.applyDept(dept, { state });
  }

  /**
   * Makes WeCom match a department already read from DingTalk; see applyUser for `force`.
   * `adopt`: the reconcile found a WeCom department with this department's id that the store
   * does not know, and takes it over rather than creating a second one.
   */
  async applyDept(dept: DingTalkDept, opts: { force?: boolean; state?: EntityState; adopt?: boolean; ifVersion?: number } = {}): Promise<SyncOutcome> {
    if (this.isRootMappedToWeComRoot(dept.dept_id)) {
      return { kind: 'dept', id: String(dept.dept_id), result: 'unchanged', wecomId: String(WECOM_ROOT_DEPT_ID) };
    }
    const state = opts.state ?? (await this.deps.store.get('dept', String(dept.dept_id)));
    if (opts.ifVersion !== undefined && (state?.version ?? 0) !== opts.ifVersion) return changedSinceRead('dept', String(dept.dept_id), state);
    const outcome = await this.writeDept(dept, state, new Set(), opts.force ?? false, opts.adopt ?? false);
    if (outcome.result === 'out_of_scope') return this.deptLeft(dept.dept_id, state, 'moved outside the sync scope', false);
    return outcome;
  }

  /** A department that is gone from DingTalk: delete its WeCom department if the sync owns it. */
  async removeDept(deptId: number): Promise<SyncOutcome> {
    const state = await this.deps.store.get('dept', String(deptId));
    return this.deptLeft(deptId, state, 'no longer exists in DingTalk', true);
  }

  private isRootMappedToWeComRoot(deptId: number): boolean {
    return deptId === DINGTALK_ROOT_DEPT_ID && this.roots.has(DINGTALK_ROOT_DEPT_ID);
  }

  /**
   * The WeCom id of a DingTalk department, creating it (and its missing ancestors, parent first)
   * when needed; undefined when it lies outside the sync scope. A department the store knows as
   * synced costs no call at all: that is what keeps one user change at one DingTalk read.
   */
  private async ensureDept(deptId: number, visiting: Set<number>): Promise<number | undefined> {
    if (this.excluded.has(deptId)) return undefined;
    if (this.isRootMappedToWeComRoot(deptId)) return WECOM_ROOT_DEPT_ID;
    if (visiting.has(deptId)) return undefined; // a cycle in DingTalk's answers: refuse rather than loop
    visiting.add(deptId);
    const state = await this.deps.store.get('dept', String(deptId));
    // A department whose last update failed (a sibling name clash, say) still exists: people can be placed in it.
    if (state?.owned && state.wecomId && (state.status === 'synced' || state.status === 'failed')) return Number(state.wecomId);
    let dept: DingTalkDept;
    try {
      dept = await this.deps.dingtalk.getDept(deptId);
    } catch (e) {
      if (isDeptGone(e) || isOutOfScope(e)) return undefined;
      throw e;
    }
    const outcome = await this.writeDept(dept, state, visiting);
    if (outcome.result === 'failed') {
      // The user cannot be placed in a department that does not exist in WeCom.
      throw new PlatformError('wecom', 'department/create', outcome.errcode ?? 0, `department ${deptId}: ${outcome.message}`, 'permanent');
    }
    return outcome.wecomId === undefined ? undefined : Number(outcome.wecomId);
  }

  private async parentWeComId(dept: DingTalkDept, visiting: Set<number>): Promise<number | undefined> {
    // A configured root other than DingTalk's own is placed directly under WeCom's root.
    if (this.roots.has(dept.dept_id)) return WECOM_ROOT_DEPT_ID;
    if (dept.parent_id === undefined) return undefined;
    return this.ensureDept(dept.parent_id, visiting);
  }

  private async writeDept(dept: DingTalkDept, state: EntityState | undefined, visiting: Set<number>, force = false, adopt = false): Promise<SyncOutcome> {
    const id = String(dept.dept_id);
    visiting.add(dept.dept_id);
    const parentid = await this.parentWeComId(dept, visiting);
    if (parentid === undefined) return { kind: 'dept', id, result: 'out_of_scope' };

    const payload = mapDept(dept, parentid);
    const hash = deptPayloadHash(payload);
    if (!force && state?.payloadHash === hash && (state.status === 'synced' || state.status === 'failed')) {
      return {
        kind: 'dept',
        id,
        result: state.status === 'failed' ? 'failed' : 'unchanged',
        wecomId: state.wecomId,
        errcode: state.lastErrcode,
        message: state.lastError,
      };
    }

    const { wecom } = this.deps;
    let wecomId: number;
    let result: SyncResult;
    // Only a claim this call took may be released on failure: another worker's stays untouched.
    const creating = !(state?.owned && state.wecomId && state.status !== 'deleted' && state.status !== 'pending');
    const current = creating ? await this.claim('dept', id, state) : state;
    try {
      if (!creating) {
        wecomId = Number(state.wecomId);
        try {
          await wecom.updateDept({ ...payload, id: wecomId });
          result = 'updated';
        } catch (e) {
          if (!isPlatformError(e, 60003)) throw e;
          wecomId = await wecom.createDept({ ...payload, id: wecomId }); // deleted in WeCom by hand: restore it
          result = 'created';
        }
      } else {
        ({ wecomId, result } = await this.createDept(dept, payload, adopt));
      }
    } catch (e) {
      return this.onWriteError('dept', id, current, hash, e);
    }
    await this.save(current, {
      kind: 'dept',
      id,
      wecomId: String(wecomId),
      owned: true,
      status: 'synced',
      payloadHash: hash,
      payload: { ...payload, id: wecomId },
    });
    this.deps.logger?.info('department synced', { deptId: id, wecomId, result });
    return { kind: 'dept', id, result, wecomId: String(wecomId) };
  }

  /**
   * Creates with the DingTalk id when WeCom can take it, else lets WeCom assign one. A WeCom
   * department that already has the id is adopted when the reconcile says so, or when it sits
   * under the same parent — which is what a create whose state write was lost leaves behind.
   */
  private async createDept(dept: DingTalkDept, payload: WeComDeptPayload, adopt: boolean): Promise<{ wecomId: number; result: SyncResult }> {
    const { wecom } = this.deps;
    const wantedId = wecomDeptIdFor(dept.dept_id);
    if (wantedId === undefined) return { wecomId: await wecom.createDept(payload), result: 'created' };
    try {
      return { wecomId: await wecom.createDept({ ...payload, id: wantedId }), result: 'created' };
    } catch (e) {
      if (!isPlatformError(e, 60008)) throw e;
      // 60008 is "id or sibling name already exists": only the id list can tell which.
      const existing = (await wecom.listDepts()).find((d) => d.id === wantedId);
      if (!existing) throw e;
      if (adopt || existing.parentid === payload.parentid) {
        await wecom.updateDept({ ...payload, id: wantedId });
        return { wecomId: wantedId, result: 'adopted' };
      }
      return { wecomId: await wecom.createDept(payload), result: 'created' }; // the id is someone else's
    }
  }

  /** The department is gone from DingTalk (members and children moved first), or left the scope. */
  private async deptLeft(deptId: number, state: EntityState | undefined, why: string, gone: boolean): Promise<SyncOutcome> {
    const id = String(deptId);
    if (!state?.owned || !state.wecomId || state.status === 'deleted') {
      return { kind: 'dept', id, result: state?.status === 'deleted' ? 'unchanged' : 'out_of_scope', message: `department ${why}` };
    }
    try {
      await this.deps.wecom.deleteDept(Number(state.wecomId));
    } catch (e) {
      if (!gone && (isPlatformError(e, 60005) || isPlatformError(e, 60006))) {
        // Moved out of scope with people still inside: no per-member events will come, so waiting
        // on the queue would only end in the DLQ. Record it; the reconcile moves or disables them.
        return this.recordPermanent('dept', id, state, {
          errcode: (e as PlatformError).errcode,
          message: `department ${why} but still has members or children in WeCom; the next reconcile will finish it`,
          payloadHash: state.payloadHash,
        });
      }
      return this.onWriteError('dept', id, state, state.payloadHash, e);
    }
    await this.save(state, { ...state, status: 'deleted', payloadHash: undefined, lastErrcode: undefined, lastError: undefined });
    this.deps.logger?.info('department deleted', { deptId: id, why });
    return { kind: 'dept', id, result: 'deleted', wecomId: state.wecomId };
  }

  // -------------------------------------------------------------------------------------------
  // State bookkeeping

  /** Takes the conditional `pending` claim that keeps two workers from creating the same thing. */
  private async claim(kind: EntityKind, id: string, state: EntityState | undefined): Promise<EntityState> {
    const now = this.clock.now();
    if (state?.status === 'pending' && now - state.updatedAt < PENDING_CLAIM_TTL_MS) {
      throw new ConcurrentWriteError(`${kind} ${id} is being created by another worker`);
    }
    try {
      return await this.deps.store.put(
        { kind, id, owned: state?.owned ?? false, wecomId: state?.wecomId, status: 'pending', updatedAt: now },
        { ifVersion: state?.version ?? 0 },
      );
    } catch (e) {
      if (e instanceof StaleStateError) throw new ConcurrentWriteError(`${kind} ${id} is being created by another worker`);
      throw e;
    }
  }

  private async save(prev: EntityState | undefined, next: Omit<EntityState, 'version' | 'updatedAt'> & { updatedAt?: number }): Promise<void> {
    const { version: _ignored, ...fields } = next as EntityState;
    try {
      await this.deps.store.put({ ...fields, updatedAt: this.clock.now() }, { ifVersion: prev?.version ?? 0 });
    } catch (e) {
      if (e instanceof StaleStateError) throw new ConcurrentWriteError(`${next.kind} ${next.id} was changed concurrently; retrying`);
      throw e;
    }
  }

  private async onWriteError(kind: EntityKind, id: string, state: EntityState | undefined, hash: string | undefined, e: unknown): Promise<SyncOutcome> {
    if (e instanceof PlatformError && e.failure === 'permanent') {
      return this.recordPermanent(kind, id, state, { errcode: e.errcode, message: `${e.api}: ${e.errmsg}`, payloadHash: hash });
    }
    if (e instanceof PlatformError && e.failure === 'configuration') {
      this.deps.logger?.error('configuration error: fix it, then redrive the dead-letter queue', {
        kind,
        id,
        api: e.api,
        errcode: e.errcode,
        errmsg: e.errmsg,
      });
    }
    // A claim we took must not block the retry.
    if (state?.status === 'pending')
      await this.deps.store
        .put({ ...state, status: 'failed', updatedAt: this.clock.now(), lastError: 'creation interrupted' }, { ifVersion: state.version })
        .catch(() => undefined);
    throw e;
  }

  private async recordPermanent(
    kind: EntityKind,
    id: string,
    state: EntityState | undefined,
    failure: { errcode?: number; message: string; payloadHash: string | undefined },
  ): Promise<SyncOutcome> {
    const outcome = await this.recordFailure(kind, id, state, { status: 'failed', ...failure });
    this.deps.logger?.warn('permanent sync failure recorded', { kind, id, errcode: failure.errcode, error: failure.message, metric: 'PermanentFailure' });
    return outcome;
  }

  /** DingTalk will not show the entity to this app: note why, and leave its WeCom side as it is. */
  private async recordConfigurationProblem(kind: EntityKind, id: string, e: PlatformError, hint: string): Promise<SyncOutcome> {
    const state = await this.deps.store.get(kind, id);
    const status = !state || state.status === 'pending' ? 'failed' : state.status;
    const outcome = await this.recordFailure(kind, id, state, { status, payloadHash: state?.payloadHash, errcode: e.errcode, message: hint });
    this.deps.logger?.error('cannot read entity from DingTalk', { kind, id, errcode: e.errcode, hint });
    return outcome;
  }

  /** Keeps what the store knew of the WeCom side (ownership, id, last payload) and adds the failure. */
  private async recordFailure(
    kind: EntityKind,
    id: string,
    state: EntityState | undefined,
    f: { status: EntityStatus; payloadHash: string | undefined; errcode?: number; message: string },
  ): Promise<SyncOutcome> {
    await this.save(state, {
      kind,
      id,
      owned: state?.owned ?? false,
      wecomId: state?.wecomId,
      payload: state?.payload,
      status: f.status,
      payloadHash: f.payloadHash,
      lastErrcode: f.errcode,
      lastError: f.message,
    });
    return { kind, id, result: 'failed', wecomId: state?.wecomId, errcode: f.errcode, message: f.message };
  }
}
