/**
 * Syncing one user: read it from DingTalk, make its WeCom member match (placing it in the WeCom
 * copies of its departments, created on demand), and apply SYNC_ON_LEAVE when the user is gone
 * from DingTalk or left the scope — only to members the sync owns.
 */
import type { SyncConfig } from '../config';
import { isOutOfScope, isUserGone } from '../dingtalk/errors';
import { isPlatformError } from '../errors';
import type { Logger } from '../log';
import type { DingTalkDirectory, DingTalkUser, EntityState, WeComDirectory, WeComUserPayload } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import { type ContactReleaser, isContactTaken } from './contact-release';
import type { DeptSync } from './dept-sync';
import { mayLead } from './direct-leader';
import { ConcurrentWriteError, type EntityStateBook } from './entity-state';
import { keepUnknownFields, knownFieldsOnly } from './field-provenance';
import { caseConflictMessage } from './identity';
import { MappingError, mapUser, WECOM_ROOT_DEPT_ID } from './mapping';
import { type MemberWrite, writeMember } from './member-write';
import { noteNewLeader } from './new-leaders';
import { changedSinceRead, type Notice, rewritten, type SyncOutcome, sameAsLastWrite } from './outcome';
import { payloadHash } from './payload-hash';
import { placeUser } from './user-placement';
import { lookUpWeComUser } from './wecom-member-lookup';

export interface UserSyncDeps {
  dingtalk: DingTalkDirectory;
  wecom: WeComDirectory;
  states: EntityStateBook;
  /** Where the user's departments come from (their WeCom ids, created when missing), and the deletions a member held up. */
  depts: Pick<DeptSync, 'placeUser' | 'retryBlocked'>;
  /** Frees a taken mobile or email from a disabled leaver the sync owns (a rehire). */
  contacts: Pick<ContactReleaser, 'release' | 'retryWaiters'>;
  config: Pick<SyncConfig, 'onLeave' | 'toInvite'>;
  /** Syncing another user again (one that waited for this one's contact details): through the facade, like any sync. */
  resync: { syncUser(userid: string, opts: Pick<ApplyUserOptions, 'force'>): Promise<SyncOutcome> };
  logger?: Logger;
}

/**
 * `force` writes even when the stored hash says nothing changed: for drift that only WeCom's id
 * lists reveal, or an operator's rewrite-all. `ifVersion`: write only if the store still holds
 * this version (the reconcile's guard against overwriting a newer worker write). `releaseFrom`:
 * the disabled leavers that may hold this user's mobile or email, when the caller knows them
 * (the reconcile's plan); otherwise a taken mobile or email makes the write search the store.
 */
export interface ApplyUserOptions {
  force?: boolean;
  ifVersion?: number;
  releaseFrom?: readonly string[];
}

/** Where a disabled leaver is kept in WeCom: the root, out of every department that may go. */
const LEAVERS_PLACEMENT = { department: [WECOM_ROOT_DEPT_ID], order: [0], is_leader_in_dept: [0] };

export class UserSync {
  constructor(private readonly deps: UserSyncDeps) {}

  async syncUser(userid: string, opts: ApplyUserOptions = {}): Promise<SyncOutcome> {
    let user: DingTalkUser;
    try {
      user = await this.deps.dingtalk.getUser(userid);
    } catch (e) {
      if (isUserGone(e)) return this.userLeft(userid, 'no longer exists in DingTalk', opts);
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
    return this.applyUser(user, opts);
  }

  /**
   * The person's last write left out a manager who could not lead yet (`leaderWithheld`): once
   * that manager can, read the person again and write them, reporting line included. Otherwise
   * nothing is read or written (`unchanged`).
   */
  async completeReportingLine(userid: string): Promise<SyncOutcome> {
    const { states } = this.deps;
    const state = await states.get('user', userid);
    const manager = state?.leaderWithheld;
    if (!manager || state.status !== 'synced' || !mayLead(await states.get('user', manager))) {
      return { kind: 'user', id: userid, result: 'unchanged', wecomId: state?.wecomId };
    }
    return this.syncUser(userid);
  }

  /** Makes WeCom match a user already read from DingTalk (the reconcile reads whole departments at once). */
  async applyUser(user: DingTalkUser, opts: ApplyUserOptions = {}): Promise<SyncOutcome> {
    const first = await this.applyOnce(user, opts);
    // This write saved a record that leaves the manager out. Another worker may have made that
    // manager able to lead meanwhile, and looked for the people waiting before this save: so
    // look at the manager once more (waiting-reports.ts), and if they can lead now, write again.
    // Once: the record is saved either way, and the reconcile completes what this misses.
    if (first.leaderWithheld === undefined || !mayLead(await this.deps.states.get('user', first.leaderWithheld))) return first;
    return rewritten(first, await this.applyOnce(user, { releaseFrom: opts.releaseFrom }));
  }

  private async applyOnce(user: DingTalkUser, opts: ApplyUserOptions): Promise<SyncOutcome> {
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
      return this.userLeft(userid, 'is outside the sync scope', opts);
    }

    const manager = user.manager_userid;
    let managerSynced = false;
    if (manager && manager !== userid) managerSynced = mayLead(await states.get('user', manager));

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

    // Fields the source record cannot tell keep what was last written to the member we own.
    const owned = !!(state?.owned && state.wecomId && state.status !== 'deleted');
    payload = keepUnknownFields(payload, user, owned ? (state?.payload as WeComUserPayload | undefined) : undefined);
    const hash = payloadHash(payload);
    // A manager who cannot lead yet is left out, and remembered: the person is written again once
    // they can (a manager created or re-enabled later sends no event for them: waiting-reports.ts).
    const leaderWithheld = manager && manager !== userid && !managerSynced ? manager : undefined;
    const same = opts.force ? undefined : sameAsLastWrite('user', userid, state, hash);
    if (same) {
      if (same.result !== 'unchanged' || !state || state.leaderWithheld === leaderWithheld) return same;
      await states.save(state, { ...state, leaderWithheld });
      return leaderWithheld ? { ...same, leaderWithheld } : same; // saved: see applyUser
    }

    // A create is claimed first and the claim kept until the result is saved: if that save is
    // lost, the member is still known to be the sync's own (it is disabled when the person leaves).
    const current = owned ? state : await states.claim('user', userid, state, { wecomId: userid, payload: knownFieldsOnly(payload, user) });
    let write: MemberWrite;
    let notices: Notice[] = [];
    try {
      try {
        write = await writeMember(this.deps.wecom, user, payload, owned && state);
      } catch (e) {
        if (!isContactTaken(e)) throw e;
        notices = await this.deps.contacts.release(userid, { mobile: payload.mobile, email: payload.email }, opts.releaseFrom);
        if (notices.length === 0) throw e;
        write = await writeMember(this.deps.wecom, user, payload, owned && state); // once: a verified mobile WeCom would not let go fails here
      }
    } catch (e) {
      return withNotices(await states.onWriteError('user', userid, current, hash, e, owned ? payload : undefined), notices);
    }
    if ('caseConflict' in write) {
      // Another person's member: never written, never owned, and the claim names nothing of ours.
      const message = caseConflictMessage({ wecomUserid: write.caseConflict }, userid);
      return states.recordPermanent('user', userid, current, { errcode: WECOM_ERR.useridExists, message, payloadHash: hash, dropClaim: true });
    }
    const { result } = write;
    // What a create or an adoption did not send is not in WeCom: only an update leaves unknown fields as they were.
    const saved = result === 'updated' ? payload : knownFieldsOnly(payload, user);
    // Noted before the save, whose answer may be lost after it is applied (new-leaders.ts).
    if (!mayLead(state)) noteNewLeader(userid);
    await states.save(current, {
      kind: 'user',
      id: userid,
      wecomId: userid,
      owned: true,
      status: 'synced',
      payloadHash: payloadHash(saved),
      payload: saved,
      contactWaiters: current?.contactWaiters,
      leaderWithheld,
    });
    this.deps.logger?.info('user synced', { userid, result });
    await this.deps.depts.retryBlocked(state?.blocking);
    return withNotices({ kind: 'user', id: userid, result, wecomId: userid, ...(leaderWithheld ? { leaderWithheld } : {}) }, notices);
  }

  /**
   * The user is gone from DingTalk or left the scope: apply SYNC_ON_LEAVE, only to what we own.
   * `force` applies it even when the record says it was applied (WeCom's side is in doubt).
   */
  async userLeft(userid: string, why: string, opts: Pick<ApplyUserOptions, 'force'> = {}): Promise<SyncOutcome> {
    const { states, wecom, config } = this.deps;
    const stored = await states.get('user', userid);
    const state = stored?.owned ? stored : stored?.claim?.wecomId ? await this.confirmClaim(stored) : undefined;
    if (!state?.owned || !state.wecomId) {
      return { kind: 'user', id: userid, result: 'out_of_scope', message: `user ${why}; not owned by the sync, nothing to do` };
    }
    const policy = config.onLeave;
    const applied = state.status === 'deleted' || (policy === 'disable' && state.status === 'disabled');
    if (policy === 'ignore' || (applied && !opts.force)) {
      if (policy === 'ignore' && state.status !== 'ignored' && state.status !== 'deleted') {
        await states.save(state, { ...state, status: 'ignored' });
      }
      // Applied by an earlier try whose retry of the waiters did not finish.
      if (applied) await this.deps.contacts.retryWaiters(userid, this.deps.resync.syncUser);
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
    await this.deps.contacts.retryWaiters(userid, this.deps.resync.syncUser);
    return { kind: 'user', id: userid, result: status, wecomId: state.wecomId };
  }

  /** See EntitySync.recordUserConflict; a conflict already recorded as it is costs no write. */
  async recordUserConflict(userid: string, message: string): Promise<SyncOutcome> {
    const { states } = this.deps;
    const state = await states.get('user', userid);
    if (state?.status === 'failed' && state.lastError === message && !state.claim) {
      return { kind: 'user', id: userid, result: 'failed', errcode: state.lastErrcode, message };
    }
    return states.recordPermanent('user', userid, state, { errcode: WECOM_ERR.useridExists, message, payloadHash: state?.payloadHash, dropClaim: true });
  }

  /**
   * A create claimed but never confirmed (its saved result was lost): the state to treat as owned
   * when WeCom has a member with exactly the claimed userid, else undefined. A young claim with no
   * member yet may belong to a worker still creating it: that is retried, not judged.
   */
  private async confirmClaim(state: EntityState): Promise<EntityState | undefined> {
    const wecomId = state.claim!.wecomId!;
    const match = await lookUpWeComUser(this.deps.wecom, wecomId);
    if (match.kind === 'same') return { ...state, owned: true, wecomId, payload: state.claim?.payload ?? state.payload, claim: undefined };
    if (match.kind === 'absent' && this.deps.states.isFreshClaim(state)) {
      throw new ConcurrentWriteError(`user ${state.id} is being created by another worker`);
    }
    return undefined;
  }
}

function withNotices(outcome: SyncOutcome, notices: Notice[]): SyncOutcome {
  return notices.length ? { ...outcome, notices: [...(outcome.notices ?? []), ...notices] } : outcome;
}
