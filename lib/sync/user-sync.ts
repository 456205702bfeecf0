/**
 * Syncing one user: read it from DingTalk, make its WeCom member match (placing it in the WeCom
 * copies of its departments, created on demand), and apply SYNC_ON_LEAVE when the user is gone
 * from DingTalk or left the scope — only to members the sync owns.
 */
import type { SyncConfig } from '../config';
import { isOutOfScope, isUserGone } from '../dingtalk/errors';
import { isPlatformError } from '../errors';
import type { Logger } from '../log';
import type { DingTalkDirectory, DingTalkUser, WeComDirectory, WeComUserPayload } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import type { DeptSync } from './dept-sync';
import type { EntityStateBook } from './entity-state';
import { MappingError, mapUser, WECOM_ROOT_DEPT_ID } from './mapping';
import { changedSinceRead, type SyncOutcome, type SyncResult, sameAsLastWrite } from './outcome';
import { payloadHash } from './payload-hash';
import { placeUser } from './user-placement';

export interface UserSyncDeps {
  dingtalk: DingTalkDirectory;
  wecom: WeComDirectory;
  states: EntityStateBook;
  /** Where the user's departments come from: their WeCom ids, created when missing. */
  depts: Pick<DeptSync, 'placeUser' | 'retryBlocked'>;
  config: Pick<SyncConfig, 'onLeave' | 'toInvite'>;
  logger?: Logger;
}

/**
 * `force` writes even when the stored hash says nothing changed: for drift that only WeCom's id
 * lists reveal, or an operator's rewrite-all. `ifVersion`: write only if the store still holds
 * this version (the reconcile's guard against overwriting a newer worker write).
 */
export interface ApplyUserOptions {
  force?: boolean;
  ifVersion?: number;
}

/** Where a disabled leaver is kept in WeCom: the root, out of every department that may go. */
const LEAVERS_PLACEMENT = { department: [WECOM_ROOT_DEPT_ID], order: [0], is_leader_in_dept: [0] };

export class UserSync {
  constructor(private readonly deps: UserSyncDeps) {}

  async syncUser(userid: string): Promise<SyncOutcome> {
    let user: DingTalkUser;
    try {
      user = await this.deps.dingtalk.getUser(userid);
    } catch (e) {
      if (isUserGone(e)) return this.userLeft(userid, 'no longer exists in DingTalk');
      if (isOutOfScope(e)) {
        // Not a departure: the DingTalk app simply cannot see this user. Change nothing in WeCom.
        return this.deps.states.recordConfigurationProblem(
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

  /** Makes WeCom match a user already read from DingTalk (the reconcile reads whole departments at once). */
  async applyUser(user: DingTalkUser, opts: ApplyUserOptions = {}): Promise<SyncOutcome> {
    const { states } = this.deps;
    const userid = user.userid;

    const placement = await placeUser(this.deps.depts, user);
    const deptMap = placement.wecomDeptIds;
    if (deptMap.size === 0) {
      // Not created yet (recorded, not parked at the root), nor taken for a leaver.
      const [failed] = placement.failed;
      if (failed) {
        const state = await states.get('user', userid);
        return states.recordPermanent('user', userid, state, {
          errcode: failed.errcode,
          message: `cannot place the user: ${failed.message}`,
          payloadHash: undefined,
        });
      }
      const [invisible] = placement.invisible;
      if (invisible) {
        const hint = `department ${invisible.deptId} is outside the DingTalk app's visible range: widen the app's contact scope; the person keeps their WeCom departments`;
        return states.recordConfigurationProblem('user', userid, invisible.error, hint);
      }
      return this.userLeft(userid, 'is outside the sync scope');
    }

    const manager = user.manager_userid;
    let managerSynced = false;
    if (manager && manager !== userid) {
      const m = await states.get('user', manager);
      managerSynced = !!m && m.owned && m.status === 'synced';
    }

    const state = await states.get('user', userid);
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
      return states.recordPermanent('user', userid, state, { message: e.message, payloadHash: undefined });
    }

    const hash = payloadHash(payload);
    const same = opts.force ? undefined : sameAsLastWrite('user', userid, state, hash);
    if (same) return same;

    const { wecom } = this.deps;
    const update = (): Promise<void> => {
      const { to_invite: _invitationIsForCreateOnly, ...fields } = payload;
      return wecom.updateUser(fields);
    };
    // Writes are idempotent: an update that finds nothing creates, a create that finds the userid updates.
    let result: SyncResult;
    try {
      if (state?.owned && state.wecomId && state.status !== 'deleted') {
        try {
          await update();
          result = 'updated';
        } catch (e) {
          if (!isPlatformError(e, WECOM_ERR.useridNotFound)) throw e;
          await wecom.createUser(payload); // removed in WeCom behind our back: create again
          result = 'created';
        }
      } else {
        try {
          await wecom.createUser(payload);
          result = 'created';
        } catch (e) {
          if (!isPlatformError(e, WECOM_ERR.useridExists)) throw e;
          await update(); // the userid already exists in WeCom: take that member over
          result = 'adopted';
        }
      }
    } catch (e) {
      return states.onWriteError('user', userid, state, hash, e);
    }
    await states.save(state, { kind: 'user', id: userid, wecomId: userid, owned: true, status: 'synced', payloadHash: hash, payload });
    this.deps.logger?.info('user synced', { userid, result });
    await this.deps.depts.retryBlocked(state?.blocking);
    return { kind: 'user', id: userid, result, wecomId: userid };
  }

  /** The user is gone from DingTalk or left the scope: apply SYNC_ON_LEAVE, only to what we own. */
  async userLeft(userid: string, why: string): Promise<SyncOutcome> {
    const { states, wecom, config } = this.deps;
    const state = await states.get('user', userid);
    if (!state?.owned || !state.wecomId) {
      return { kind: 'user', id: userid, result: 'out_of_scope', message: `user ${why}; not owned by the sync, nothing to do` };
    }
    const policy = config.onLeave;
    if (policy === 'ignore' || state.status === 'deleted' || (policy === 'disable' && state.status === 'disabled')) {
      if (policy === 'ignore' && state.status !== 'ignored' && state.status !== 'deleted') {
        await states.save(state, { ...state, status: 'ignored' });
      }
      return { kind: 'user', id: userid, result: 'unchanged', wecomId: state.wecomId };
    }
    try {
      if (policy === 'delete') {
        await wecom.deleteUser(state.wecomId);
      } else {
        try {
          // Disabled members stay members: moved to WeCom's root, they no longer keep their old
          // departments from being deleted (WECOM_ERR.deptHasMembers) once those go in DingTalk.
          await wecom.updateUser({ userid: state.wecomId, enable: 0, ...LEAVERS_PLACEMENT });
        } catch (e) {
          if (!isPlatformError(e, WECOM_ERR.useridNotFound) && !isPlatformError(e, WECOM_ERR.userNotFound)) throw e;
          await states.save(state, { ...state, status: 'deleted', payloadHash: undefined });
          return { kind: 'user', id: userid, result: 'deleted', wecomId: state.wecomId, message: 'already gone from WeCom' };
        }
      }
    } catch (e) {
      return states.onWriteError('user', userid, state, state.payloadHash, e);
    }
    const status = policy === 'delete' ? 'deleted' : 'disabled';
    const payload = policy === 'delete' ? state.payload : { ...(state.payload as WeComUserPayload), enable: 0 as const, ...LEAVERS_PLACEMENT };
    // Clear the hash: a user who comes back must be written again (re-enabled).
    await states.save(state, { ...state, status, payload, payloadHash: undefined, lastErrcode: undefined, lastError: undefined, blocking: undefined });
    this.deps.logger?.info('user left', { userid, why, result: status });
    await this.deps.depts.retryBlocked(state.blocking);
    return { kind: 'user', id: userid, result: status, wecomId: state.wecomId };
  }
}
