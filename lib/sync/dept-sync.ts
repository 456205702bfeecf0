/**
 * Syncing one department: read it from DingTalk, make its WeCom copy match (creating missing
 * ancestors parent first), delete that copy when the department is gone or left the scope
 * (dept-removal.ts). Also places users: `placeUser` tells the user sync where a person can go.
 *
 * Scope is judged on the whole ancestor chain (scope.ts, dept-chain.ts) before a stored
 * department is trusted. Conflicts that only come from the order of changes are settled here
 * (dept-conflicts.ts); people placed without a department that could not be created are synced
 * again once it exists (dept-waiting.ts).
 */
import type { SyncConfig } from '../config';
import type { PlatformError } from '../errors';
import { isPlatformError } from '../errors';
import type { Logger } from '../log';
import type { DingTalkDept, DingTalkDirectory, EntityState, WeComDeptPayload, WeComDirectory } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import { DeptChainJudge } from './dept-chain';
import { type DeptConflictDeps, DeptConflicts, type Resolution } from './dept-conflicts';
import { type DeptContext, DeptOperations, readDept, rememberDept } from './dept-context';
import { createDeptCopy } from './dept-create';
import { DeptRemoval } from './dept-removal';
import { WaitingUsers } from './dept-waiting';
import type { EntityStateBook } from './entity-state';
import { MappingError, mapDept, WECOM_ROOT_DEPT_ID, wecomDeptIdFor } from './mapping';
import { changedSinceRead, type SyncOutcome, type SyncResult, sameAsLastWrite } from './outcome';
import { deptOrderChanged, deptPayloadHash } from './payload-hash';
import { SyncScope } from './scope';

export interface DeptSyncDeps {
  dingtalk: DingTalkDirectory;
  wecom: WeComDirectory;
  states: EntityStateBook;
  config: Pick<SyncConfig, 'rootDeptIds' | 'excludeDeptIds'>;
  /**
   * Syncing other entities again on the way (members a department must shed, people waiting for
   * it, the department in the way of a move): through the facade, like any other sync.
   */
  resync: { syncUser(userid: string): Promise<SyncOutcome>; syncDept(deptId: number): Promise<SyncOutcome> };
  /** Holds another department's write lease (the sibling whose name is freed for a swap). */
  lease: DeptConflictDeps['lease'];
  logger?: Logger;
}

/**
 * `force` writes even when the stored hash says nothing changed. `ifVersion`: write only if the
 * store still holds this version. `state`: the record already read, to save reading it again.
 * (Whether a WeCom department with the wanted id is adopted is decided by `mayAdoptDept`, for
 * the worker and the reconcile alike, and by the claim an earlier try left: dept-create.ts.)
 */
export interface ApplyDeptOptions {
  force?: boolean;
  state?: EntityState;
  ifVersion?: number;
}

/**
 * Where a person can be placed for one of their DingTalk departments: its WeCom id; nowhere
 * (outside the scope, or gone); not now (WeCom refused to create it: `deptId` is the department
 * that failed, the one asked for or an ancestor); or unknown (the DingTalk app may not read it:
 * the person keeps the WeCom department it had, when there is one).
 */
export type DeptPlacement =
  | { kind: 'placed'; wecomId: number }
  | { kind: 'outside' }
  | { kind: 'failed'; deptId: number; errcode?: number; message: string }
  | { kind: 'invisible'; wecomId?: number; error: PlatformError };

const VISIBLE_RANGE_HINT = "outside the DingTalk app's visible range: widen the app's contact scope in the DingTalk console";

export class DeptSync {
  private readonly scope: SyncScope;
  private readonly chain: DeptChainJudge;
  private readonly removal: DeptRemoval;
  private readonly conflicts: DeptConflicts;
  private readonly waiting: WaitingUsers;
  private readonly operations = new DeptOperations();

  constructor(private readonly deps: DeptSyncDeps) {
    const { dingtalk, wecom, states, resync, logger } = deps;
    this.scope = new SyncScope(deps.config);
    this.chain = new DeptChainJudge({ scope: this.scope, states, dingtalk });
    this.waiting = new WaitingUsers({ states, syncUser: resync.syncUser, syncDept: resync.syncDept, logger });
    this.removal = new DeptRemoval({ wecom, states, syncUser: resync.syncUser, syncDept: resync.syncDept, operations: this.operations, logger });
    this.conflicts = new DeptConflicts({ dingtalk, wecom, states, syncDept: resync.syncDept, lease: deps.lease, logger });
  }

  /** Reads the department from DingTalk and applies it; `force` as in ApplyDeptOptions. */
  syncDept(deptId: number, opts: Pick<ApplyDeptOptions, 'force'> = {}): Promise<SyncOutcome> {
    return this.operations.run(async (ctx) => {
      const id = String(deptId);
      if (this.scope.mapsToWeComRoot(deptId)) {
        // WeCom's root is the company itself; the sync never renames it.
        return { kind: 'dept', id, result: 'unchanged', wecomId: String(WECOM_ROOT_DEPT_ID) };
      }
      const state = await this.deps.states.get('dept', id);
      const leave = { force: opts.force };
      if (this.scope.isExcluded(deptId)) return this.removal.leave(ctx, deptId, state, 'is excluded by SYNC_EXCLUDE_DEPT_IDS', undefined, leave);
      const read = await readDept(ctx, this.deps.dingtalk, deptId);
      if ('gone' in read) return this.removal.leave(ctx, deptId, state, 'no longer exists in DingTalk', undefined, leave);
      if ('invisible' in read) return this.deps.states.recordConfigurationProblem('dept', id, read.invisible, VISIBLE_RANGE_HINT);
      return this.applyIn(ctx, read.dept, { ...opts, state });
    });
  }

  /** Makes WeCom match a department already read from DingTalk. */
  applyDept(dept: DingTalkDept, opts: ApplyDeptOptions = {}): Promise<SyncOutcome> {
    return this.operations.run((ctx) => {
      rememberDept(ctx, dept);
      return this.applyIn(ctx, dept, opts);
    });
  }

  /** A department that is gone from DingTalk: delete its WeCom department if the sync owns it. */
  removeDept(deptId: number): Promise<SyncOutcome> {
    return this.operations.run(async (ctx) => {
      const state = await this.deps.states.get('dept', String(deptId));
      return this.removal.leave(ctx, deptId, state, 'no longer exists in DingTalk');
    });
  }

  /**
   * Where `userid` can be placed for DingTalk department `deptId`, creating it (and its missing
   * ancestors, parent first) when needed. A department the store knows as synced, on a chain the
   * store knows to be in scope, costs no DingTalk call: that keeps one user change at one read.
   * A department that cannot be created remembers the user, who is synced again once it exists.
   */
  placeUser(deptId: number, userid: string): Promise<DeptPlacement> {
    return this.operations.run(async (ctx) => {
      const placement = await this.place(ctx, deptId);
      if (placement.kind === 'failed') await this.waiting.add(placement.deptId, userid);
      return placement;
    });
  }

  /** A member's write went through: retry deleting the departments it held up (`blocking`). Child departments do so themselves. */
  retryBlocked(deptIds: readonly string[] | undefined): Promise<void> {
    return this.removal.retryBlocked(deptIds);
  }

  private async applyIn(ctx: DeptContext, dept: DingTalkDept, opts: ApplyDeptOptions): Promise<SyncOutcome> {
    const id = String(dept.dept_id);
    if (this.scope.mapsToWeComRoot(dept.dept_id)) return { kind: 'dept', id, result: 'unchanged', wecomId: String(WECOM_ROOT_DEPT_ID) };
    const state = opts.state ?? (await this.deps.states.get('dept', id));
    if (opts.ifVersion !== undefined && (state?.version ?? 0) !== opts.ifVersion) return changedSinceRead('dept', id, state);
    const verdict = await this.chain.judge(ctx, dept.dept_id);
    if (verdict.kind === 'invisible') return this.deps.states.recordConfigurationProblem('dept', id, verdict.error, `an ancestor is ${VISIBLE_RANGE_HINT}`);
    const outcome = verdict.kind === 'in' ? await this.writeDept(ctx, dept, state, opts.force ?? false) : undefined;
    if (outcome && outcome.result !== 'out_of_scope') return outcome;
    return this.removal.leave(ctx, dept.dept_id, state, 'moved outside the sync scope', dept.parent_id, { force: opts.force });
  }

  private async place(ctx: DeptContext, deptId: number): Promise<DeptPlacement> {
    if (this.scope.mapsToWeComRoot(deptId)) return { kind: 'placed', wecomId: WECOM_ROOT_DEPT_ID };
    const verdict = await this.chain.judge(ctx, deptId);
    if (verdict.kind === 'out') return { kind: 'outside' };
    const state = await this.deps.states.get('dept', String(deptId));
    // A wecomId is kept only while the department is believed to exist; one whose last update
    // failed (a sibling name clash, say) still exists and still holds people.
    const exists = state?.owned && state.wecomId && (state.status === 'synced' || state.status === 'failed') ? Number(state.wecomId) : undefined;
    if (verdict.kind === 'invisible') return { kind: 'invisible', wecomId: exists, error: verdict.error };
    if (exists !== undefined) return { kind: 'placed', wecomId: exists };
    if (ctx.writing.has(deptId)) return { kind: 'failed', deptId, message: `department ${deptId} is being written` };
    const read = await readDept(ctx, this.deps.dingtalk, deptId);
    if ('gone' in read) return { kind: 'outside' };
    if ('invisible' in read) return { kind: 'invisible', error: read.invisible };
    const outcome = await this.writeDept(ctx, read.dept, state);
    if (outcome.result === 'out_of_scope') return { kind: 'outside' };
    if (outcome.result === 'failed' || outcome.wecomId === undefined) {
      // The failure of an ancestor is the one to wait for.
      return { kind: 'failed', deptId: outcome.failedDeptId ?? deptId, errcode: outcome.errcode, message: `department ${deptId}: ${outcome.message}` };
    }
    return { kind: 'placed', wecomId: Number(outcome.wecomId) };
  }

  private async writeDept(
    ctx: DeptContext,
    dept: DingTalkDept,
    state: EntityState | undefined,
    force = false,
  ): Promise<SyncOutcome & { failedDeptId?: number }> {
    const id = String(dept.dept_id);
    const { states } = this.deps;
    // A configured root other than DingTalk's own is placed directly under WeCom's root.
    const parent: DeptPlacement = this.scope.isRoot(dept.dept_id)
      ? { kind: 'placed', wecomId: WECOM_ROOT_DEPT_ID }
      : dept.parent_id === undefined
        ? { kind: 'outside' }
        : await this.place(ctx, dept.parent_id);
    if (parent.kind === 'outside') return { kind: 'dept', id, result: 'out_of_scope' };
    if (parent.kind === 'invisible') return states.recordConfigurationProblem('dept', id, parent.error, `its parent is ${VISIBLE_RANGE_HINT}`);
    if (parent.kind === 'failed') {
      const outcome = await states.recordPermanent('dept', id, state, { errcode: parent.errcode, message: `parent ${parent.message}`, payloadHash: undefined });
      return { ...outcome, failedDeptId: parent.deptId };
    }

    let payload: WeComDeptPayload;
    try {
      payload = mapDept(dept, parent.wecomId);
    } catch (e) {
      if (!(e instanceof MappingError)) throw e;
      return states.recordPermanent('dept', id, state, { message: e.message, payloadHash: undefined });
    }
    const hash = deptPayloadHash(payload);
    const lastWritten = state?.payload as WeComDeptPayload | undefined;
    const same = force || state?.status === 'blocked' || deptOrderChanged(lastWritten, payload) ? undefined : sameAsLastWrite('dept', id, state, hash);
    if (same) {
      if (same.result === 'unchanged' && WaitingUsers.anyWaiting(state)) await this.waiting.release(dept.dept_id);
      return same;
    }

    // Only a claim this call took may be released on failure: another worker's stays untouched.
    const creating = !(state?.owned && state.wecomId && state.status !== 'deleted' && state.status !== 'pending');
    const wantedId = wecomDeptIdFor(dept.dept_id);
    const intended = { wecomId: wantedId === undefined ? undefined : String(wantedId), payload };
    const current = creating ? await states.claim('dept', id, state, intended) : state;
    const claim = current && { state: current }; // a create may add to the claim: see createDeptCopy
    let restoring = false;
    const write = async (): Promise<{ wecomId: number; result: SyncResult }> => {
      if (creating) return createDeptCopy(this.deps, dept, payload, claim!, state);
      const wecomId = Number(state!.wecomId);
      try {
        await this.deps.wecom.updateDept({ ...payload, id: wecomId });
        return { wecomId, result: 'updated' };
      } catch (e) {
        if (!isPlatformError(e, WECOM_ERR.deptNotFound)) throw e;
        restoring = true; // deleted in WeCom by hand: restore it
        return { wecomId: await this.deps.wecom.createDept({ ...payload, id: wecomId }), result: 'created' };
      }
    };
    // A failed restore leaves nothing in WeCom: the record must not keep an id people would be placed in (60123).
    const fail = (e: unknown) => states.onWriteError('dept', id, restoring && claim ? { ...claim.state, wecomId: undefined } : claim?.state, hash, e);

    let resolution: Resolution | undefined;
    const writeSettlingConflicts = async (): Promise<{ wecomId: number; result: SyncResult }> => {
      try {
        return await write();
      } catch (e) {
        resolution = await this.conflicts.resolve(ctx, e, { deptId: dept.dept_id, wecomId: creating ? undefined : Number(state!.wecomId), payload });
        if (!resolution) throw e;
        return write(); // once: a second refusal is recorded as it is
      }
    };
    let written: { wecomId: number; result: SyncResult };
    ctx.writing.add(dept.dept_id);
    try {
      written = await writeSettlingConflicts();
    } catch (e) {
      return fail(e);
    } finally {
      ctx.writing.delete(dept.dept_id);
    }

    const { wecomId, result } = written;
    // An update without an order (the reconcile's listing has none) leaves WeCom's as it was.
    const order = payload.order ?? (result === 'updated' ? lastWritten?.order : undefined);
    await states.save(claim?.state, {
      kind: 'dept',
      id,
      wecomId: String(wecomId),
      owned: true,
      status: 'synced',
      payloadHash: hash,
      payload: { ...payload, id: wecomId, order },
      dingtalkParentId: dept.parent_id,
      waitingUsers: state?.waitingUsers,
      waitingDepts: state?.waitingDepts,
    });
    this.deps.logger?.info('department synced', { deptId: id, wecomId, result });
    await resolution?.settle();
    if (WaitingUsers.anyWaiting(state)) await this.waiting.release(dept.dept_id);
    // Moved (or renamed) out of a department whose deletion it held up: that one may go now.
    await this.removal.retryBlocked(state?.blocking);
    return { kind: 'dept', id, result, wecomId: String(wecomId) };
  }
}
