/**
 * Syncing one department: read it from DingTalk, make its WeCom copy match (creating missing
 * ancestors parent first), delete that copy when the department is gone or left the scope.
 * Also places users: `ensureDept` gives the user sync a WeCom department id to put people in.
 */
import type { SyncConfig } from '../config';
import { isDeptGone, isOutOfScope } from '../dingtalk/errors';
import { isPlatformError, PlatformError } from '../errors';
import type { Logger } from '../log';
import type { DingTalkDept, DingTalkDirectory, EntityState, WeComDeptPayload, WeComDirectory } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import { type ClaimRef, createWithAssignedId } from './assigned-dept-create';
import type { EntityStateBook } from './entity-state';
import { claimedDeptPresent, mayAdoptDept } from './identity';
import { DINGTALK_ROOT_DEPT_ID, mapDept, WECOM_ROOT_DEPT_ID, wecomDeptIdFor } from './mapping';
import { changedSinceRead, type SyncOutcome, type SyncResult, sameAsLastWrite } from './outcome';
import { deptPayloadHash } from './payload-hash';

export interface DeptSyncDeps {
  dingtalk: DingTalkDirectory;
  wecom: WeComDirectory;
  states: EntityStateBook;
  config: Pick<SyncConfig, 'rootDeptIds' | 'excludeDeptIds'>;
  logger?: Logger;
}

/**
 * `force` writes even when the stored hash says nothing changed. `ifVersion`: write only if the
 * store still holds this version. `state`: the record already read, to save reading it again.
 * (Whether a WeCom department with the wanted id is adopted is decided by `mayAdoptDept` alone,
 * for the worker and the reconcile alike.)
 */
export interface ApplyDeptOptions {
  force?: boolean;
  state?: EntityState;
  ifVersion?: number;
}

export class DeptSync {
  private readonly roots: Set<number>;
  private readonly excluded: Set<number>;

  constructor(private readonly deps: DeptSyncDeps) {
    this.roots = new Set(deps.config.rootDeptIds);
    this.excluded = new Set(deps.config.excludeDeptIds);
  }

  async syncDept(deptId: number, opts: ApplyDeptOptions = {}): Promise<SyncOutcome> {
    const id = String(deptId);
    if (this.isRootMappedToWeComRoot(deptId)) {
      // WeCom's root is the company itself; the sync never renames it.
      return { kind: 'dept', id, result: 'unchanged', wecomId: String(WECOM_ROOT_DEPT_ID) };
    }
    const state = await this.deps.states.get('dept', id);
    if (this.excluded.has(deptId)) return this.deptLeft(deptId, state, 'is excluded by SYNC_EXCLUDE_DEPT_IDS', false, opts.force);
    let dept: DingTalkDept;
    try {
      dept = await this.deps.dingtalk.getDept(deptId);
    } catch (e) {
      if (isDeptGone(e)) return this.deptLeft(deptId, state, 'no longer exists in DingTalk', true, opts.force);
      if (isOutOfScope(e)) {
        return this.deps.states.recordConfigurationProblem(
          'dept',
          id,
          e,
          "outside the DingTalk app's visible range: widen the app's contact scope in the DingTalk console",
        );
      }
      throw e;
    }
    return this.applyDept(dept, { ...opts, state });
  }

  /** Makes WeCom match a department already read from DingTalk. */
  async applyDept(dept: DingTalkDept, opts: ApplyDeptOptions = {}): Promise<SyncOutcome> {
    if (this.isRootMappedToWeComRoot(dept.dept_id)) {
      return { kind: 'dept', id: String(dept.dept_id), result: 'unchanged', wecomId: String(WECOM_ROOT_DEPT_ID) };
    }
    const state = opts.state ?? (await this.deps.states.get('dept', String(dept.dept_id)));
    if (opts.ifVersion !== undefined && (state?.version ?? 0) !== opts.ifVersion) return changedSinceRead('dept', String(dept.dept_id), state);
    const outcome = await this.writeDept(dept, state, new Set(), opts.force ?? false);
    if (outcome.result === 'out_of_scope') return this.deptLeft(dept.dept_id, state, 'moved outside the sync scope', false, opts.force);
    return outcome;
  }

  /** A department that is gone from DingTalk: delete its WeCom department if the sync owns it. */
  async removeDept(deptId: number): Promise<SyncOutcome> {
    const state = await this.deps.states.get('dept', String(deptId));
    return this.deptLeft(deptId, state, 'no longer exists in DingTalk', true);
  }

  /**
   * The WeCom id of a DingTalk department, creating it (and its missing ancestors, parent first)
   * when needed; undefined when it lies outside the sync scope. A department the store knows as
   * synced costs no call at all: that is what keeps one user change at one DingTalk read.
   * Throws a permanent PlatformError when the department cannot be written to WeCom.
   */
  async ensureDept(deptId: number, visiting: Set<number> = new Set()): Promise<number | undefined> {
    if (this.excluded.has(deptId)) return undefined;
    if (this.isRootMappedToWeComRoot(deptId)) return WECOM_ROOT_DEPT_ID;
    if (visiting.has(deptId)) return undefined; // a cycle in DingTalk's answers: refuse rather than loop
    visiting.add(deptId);
    const state = await this.deps.states.get('dept', String(deptId));
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
      // The user cannot be placed in a department that does not exist in WeCom (errcode 0 when
      // the recorded failure carried none).
      throw new PlatformError('wecom', 'department/create', outcome.errcode ?? 0, `department ${deptId}: ${outcome.message}`, 'permanent');
    }
    return outcome.wecomId === undefined ? undefined : Number(outcome.wecomId);
  }

  private isRootMappedToWeComRoot(deptId: number): boolean {
    return deptId === DINGTALK_ROOT_DEPT_ID && this.roots.has(DINGTALK_ROOT_DEPT_ID);
  }

  private async parentWeComId(dept: DingTalkDept, visiting: Set<number>): Promise<number | undefined> {
    // A configured root other than DingTalk's own is placed directly under WeCom's root.
    if (this.roots.has(dept.dept_id)) return WECOM_ROOT_DEPT_ID;
    if (dept.parent_id === undefined) return undefined;
    return this.ensureDept(dept.parent_id, visiting);
  }

  private async writeDept(dept: DingTalkDept, state: EntityState | undefined, visiting: Set<number>, force = false): Promise<SyncOutcome> {
    const id = String(dept.dept_id);
    visiting.add(dept.dept_id);
    const parentid = await this.parentWeComId(dept, visiting);
    if (parentid === undefined) return { kind: 'dept', id, result: 'out_of_scope' };

    const payload = mapDept(dept, parentid);
    const hash = deptPayloadHash(payload);
    const same = force ? undefined : sameAsLastWrite('dept', id, state, hash);
    if (same) return same;

    const { wecom, states } = this.deps;
    let wecomId: number;
    let result: SyncResult;
    // Only a claim this call took may be released on failure: another worker's stays untouched.
    const creating = !(state?.owned && state.wecomId && state.status !== 'deleted' && state.status !== 'pending');
    const wantedId = wecomDeptIdFor(dept.dept_id);
    const intended = { wecomId: wantedId === undefined ? undefined : String(wantedId), payload };
    const current = creating ? await states.claim('dept', id, state, intended) : state;
    const claim = current && { state: current }; // a create may add to the claim: see createDept
    try {
      if (!creating) {
        wecomId = Number(state.wecomId);
        try {
          await wecom.updateDept({ ...payload, id: wecomId });
          result = 'updated';
        } catch (e) {
          if (!isPlatformError(e, WECOM_ERR.deptNotFound)) throw e;
          wecomId = await wecom.createDept({ ...payload, id: wecomId }); // deleted in WeCom by hand: restore it
          result = 'created';
        }
      } else {
        ({ wecomId, result } = await this.createDept(dept, payload, claim!));
      }
    } catch (e) {
      return states.onWriteError('dept', id, claim?.state, hash, e);
    }
    await states.save(claim?.state, {
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
   * department that already has the id is adopted only as `mayAdoptDept` allows (under the same
   * parent: what a create whose state write was lost leaves behind).
   * An id WeCom assigns comes only in the answer: `createWithAssignedId` finds it if that was lost.
   */
  private async createDept(dept: DingTalkDept, payload: WeComDeptPayload, claim: ClaimRef): Promise<{ wecomId: number; result: SyncResult }> {
    const { wecom } = this.deps;
    const wantedId = wecomDeptIdFor(dept.dept_id);
    const assigned = async () => ({ wecomId: await createWithAssignedId(this.deps, claim, payload), result: 'created' as const });
    if (wantedId === undefined) return assigned();
    try {
      return { wecomId: await wecom.createDept({ ...payload, id: wantedId }), result: 'created' };
    } catch (e) {
      if (!isPlatformError(e, WECOM_ERR.deptExists)) throw e;
      // deptExists is "id or sibling name already exists": only the id list can tell which.
      const existing = (await wecom.listDepts()).find((d) => d.id === wantedId);
      if (!existing) throw e;
      if (mayAdoptDept(existing, payload.parentid)) {
        await wecom.updateDept({ ...payload, id: wantedId });
        return { wecomId: wantedId, result: 'adopted' };
      }
      return assigned(); // the id is someone else's
    }
  }

  /**
   * The department is gone from DingTalk (members and children moved first), or left the scope.
   * `force` deletes it even when the record says it was deleted (WeCom's side is in doubt).
   */
  private async deptLeft(deptId: number, stored: EntityState | undefined, why: string, gone: boolean, force = false): Promise<SyncOutcome> {
    const id = String(deptId);
    const state = stored?.owned || !stored?.claim?.wecomId ? stored : await this.confirmClaim(stored);
    const { states } = this.deps;
    if (!state?.owned || !state.wecomId || (state.status === 'deleted' && !force)) {
      return { kind: 'dept', id, result: state?.status === 'deleted' ? 'unchanged' : 'out_of_scope', message: `department ${why}` };
    }
    try {
      await this.deps.wecom.deleteDept(Number(state.wecomId));
    } catch (e) {
      if (!gone && (isPlatformError(e, WECOM_ERR.deptHasMembers) || isPlatformError(e, WECOM_ERR.deptHasChildren))) {
        // Moved out of scope with people still inside: no per-member events will come, so waiting
        // on the queue would only end in the DLQ. Record it; the reconcile moves or disables them.
        return states.recordPermanent('dept', id, state, {
          errcode: (e as PlatformError).errcode,
          message: `department ${why} but still has members or children in WeCom; the next reconcile will finish it`,
          payloadHash: state.payloadHash,
        });
      }
      return states.onWriteError('dept', id, state, state.payloadHash, e);
    }
    await states.save(state, { ...state, status: 'deleted', payloadHash: undefined, lastErrcode: undefined, lastError: undefined });
    this.deps.logger?.info('department deleted', { deptId: id, why });
    return { kind: 'dept', id, result: 'deleted', wecomId: state.wecomId };
  }

  /**
   * A create claimed but never confirmed (its saved result was lost): treated as owned when WeCom
   * has the claimed id under the claimed parent, as `mayAdoptDept` would adopt it.
   */
  private async confirmClaim(state: EntityState): Promise<EntityState> {
    const depts = new Map((await this.deps.wecom.listDepts()).map((d) => [d.id, d]));
    if (!claimedDeptPresent(state, depts)) return state;
    return { ...state, owned: true, wecomId: state.claim?.wecomId, payload: state.claim?.payload ?? state.payload, claim: undefined };
  }
}
