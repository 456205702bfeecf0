/**
 * Removing a department that is gone from DingTalk or left the sync scope, which WeCom does only
 * once it is empty (60005 members, 60006 children).
 *
 * What is still inside decides what happens, not the errcode: the sync empties the department
 * of what it owns (each member and child is synced again from DingTalk, which moves it to its
 * current place or applies the leave policy) and deletes again. What it cannot move — members
 * and children it does not own, or owned ones whose own write failed for good — leaves the
 * department `blocked`, naming them: recorded, reported, never retried on the queue (it would only
 * end in the dead-letter queue) and never touched. The deletion is tried again when what is
 * inside changes: a blocking member's next write, or a reconcile that sees other contents.
 */

import { isPlatformError, type PlatformError } from '../errors';
import type { Logger } from '../log';
import type { EntityKind, EntityState, WeComDirectory } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import { finishEarlierTry } from './assigned-dept-create';
import type { DeptContext, DeptOperations } from './dept-context';
import { type Waiting, withWaiting } from './dept-waiting';
import { ConcurrentWriteError, type EntityStateBook } from './entity-state';
import { errorText } from './error-text';
import { claimedDeptPresent, deptHeldByAnother } from './identity';
import type { SyncOutcome } from './outcome';

export interface DeptRemovalDeps {
  wecom: WeComDirectory;
  states: EntityStateBook;
  /** Syncs a user again from DingTalk. */
  syncUser(userid: string): Promise<SyncOutcome>;
  /** Syncs a department again from DingTalk. */
  syncDept(deptId: number): Promise<SyncOutcome>;
  /** The department writer's operations: a retried deletion joins the caller's, if any. */
  operations: DeptOperations;
  logger?: Logger;
}

/** What WeCom still holds directly in a department. */
interface Contents {
  users: string[];
  depts: number[];
}

export class DeptRemoval {
  constructor(private readonly deps: DeptRemovalDeps) {}

  /**
   * The department is gone from DingTalk, or left the scope: delete its WeCom department if the
   * sync owns it. `dingtalkParentId`: its parent as just read, remembered for the scope judge.
   */
  async leave(
    ctx: DeptContext,
    deptId: number,
    stored: EntityState | undefined,
    why: string,
    dingtalkParentId?: number,
    opts: { force?: boolean } = {},
  ): Promise<SyncOutcome> {
    const id = String(deptId);
    let state = stored?.owned || !stored?.claim?.wecomId ? stored : await this.confirmClaim(stored);
    if (state && !state.owned && state.creating) state = await this.earlierTry(state, state.creating);
    // `force`: the record says deleted, but WeCom's side is in doubt (a write raced this one).
    if (!state?.owned || !state.wecomId || (state.status === 'deleted' && !opts.force)) {
      return { kind: 'dept', id, result: state?.status === 'deleted' ? 'unchanged' : 'out_of_scope', message: `department ${why}` };
    }
    // Emptying syncs members, which may come back here: the outer call finishes the job.
    if (ctx.emptying.has(deptId)) return { kind: 'dept', id, result: 'unchanged', wecomId: state.wecomId, message: 'being emptied' };
    ctx.emptying.add(deptId);
    try {
      const wecomId = Number(state.wecomId);
      const first = await this.tryDelete(wecomId);
      if (first === undefined) return this.deleted(state, why, dingtalkParentId, {});
      if (!isNotEmpty(first)) return this.deps.states.onWriteError('dept', id, state, state.payloadHash, first);
      // Shed because the department goes: should it come back (into the scope), they come back
      // with it (dept-waiting.ts). Recorded with whatever this ends in.
      const shed = await this.emptyOwned(wecomId);
      const second = await this.tryDelete(wecomId);
      if (second === undefined) return this.deleted(state, why, dingtalkParentId, shed);
      if (!isNotEmpty(second)) return this.deps.states.onWriteError('dept', id, withWaiting(state, shed), state.payloadHash, second);
      const left = await this.contents(wecomId);
      // Emptied by someone else between the refusal and the listing: the retry will delete it.
      if (left.users.length === 0 && left.depts.length === 0) throw second;
      return await this.recordBlocked(id, why, second, left, dingtalkParentId, shed);
    } finally {
      ctx.emptying.delete(deptId);
    }
  }

  /**
   * A create claimed but never confirmed (its saved result was lost): treated as owned when WeCom
   * has the claimed id under the claimed parent, as `mayAdoptDept` would adopt it.
   */
  private async confirmClaim(state: EntityState): Promise<EntityState> {
    const depts = new Map((await this.deps.wecom.listDepts()).map((d) => [d.id, d]));
    const records = await this.deps.states.list('dept');
    if (!claimedDeptPresent(state, depts, (wecomId) => deptHeldByAnother(records, state.id, { id: Number(wecomId) }))) return state;
    return { ...state, owned: true, wecomId: state.claim?.wecomId, payload: state.claim?.payload ?? state.payload, claim: undefined };
  }

  /**
   * A create whose id WeCom assigns, in doubt (its answer lost): the copy that try may have made
   * is found (or made now, as it was asked: assigned-dept-create.ts) and counted as owned, so the
   * deletion removes it instead of leaving a department nobody knows.
   */
  private async earlierTry(state: EntityState, creating: NonNullable<EntityState['creating']>): Promise<EntityState> {
    const wecomId = await finishEarlierTry(this.deps, creating);
    if (wecomId === undefined) {
      // Nothing was made there: no longer in doubt, so the reconcile does not plan this again.
      const settled = { ...state, creating: undefined };
      await this.deps.states.save(state, settled).catch((e: unknown) => {
        if (!(e instanceof ConcurrentWriteError)) throw e;
      });
      return settled;
    }
    return { ...state, owned: true, wecomId: String(wecomId), creating: undefined, claim: undefined };
  }

  /** A member's or child department's write (or deletion) went through: retry deleting the departments it held up. */
  async retryBlocked(deptIds: readonly string[] | undefined): Promise<void> {
    for (const id of deptIds ?? []) {
      try {
        await this.deps.operations.run(async (ctx) => (ctx.emptying.has(Number(id)) ? undefined : this.deps.syncDept(Number(id))));
      } catch (e) {
        // The member's own write stands; the next reconcile sees the department's new contents.
        this.deps.logger?.warn('retrying a blocked department failed', { deptId: id, error: errorText(e) });
      }
    }
  }

  private async tryDelete(wecomId: number): Promise<PlatformError | undefined> {
    try {
      await this.deps.wecom.deleteDept(wecomId);
      return undefined;
    } catch (e) {
      if (isPlatformError(e)) return e;
      throw e;
    }
  }

  /** Records the deletion over the record as it is now (emptying may have changed it), owned as `judged`. */
  private async deleted(judged: EntityState, why: string, dingtalkParentId: number | undefined, shed: Waiting): Promise<SyncOutcome> {
    const { states } = this.deps;
    const id = judged.id;
    const now = (await states.get('dept', id))!;
    const state = {
      ...withWaiting(now, shed),
      owned: judged.owned,
      wecomId: judged.wecomId,
      payload: judged.payload,
      claim: judged.claim,
      creating: judged.creating,
    };
    await states.save(now, {
      ...state,
      status: 'deleted',
      payloadHash: undefined,
      lastErrcode: undefined,
      lastError: undefined,
      blockedBy: undefined,
      blocking: undefined,
      dingtalkParentId: dingtalkParentId ?? state.dingtalkParentId,
    });
    this.deps.logger?.info('department deleted', { deptId: id, why });
    // Gone from inside the departments it held up: they may go now.
    await this.retryBlocked(now.blocking);
    return { kind: 'dept', id, result: 'deleted', wecomId: state.wecomId };
  }

  /** Syncs again every child department and member the sync owns, children first; returns them. */
  private async emptyOwned(wecomId: number): Promise<Waiting> {
    const { states } = this.deps;
    const { users, depts } = await this.contents(wecomId);
    const shed = { users: [] as string[], depts: [] as string[] };
    if (depts.length > 0) {
      const owners = ownersByWeComId(await states.list('dept'));
      for (const child of depts) {
        const s = owners.get(String(child));
        if (!s) continue;
        await this.deps.syncDept(Number(s.id));
        shed.depts.push(s.id);
      }
    }
    for (const userid of users) {
      const s = await states.get('user', userid);
      if (!isOwned(s)) continue;
      await this.deps.syncUser(userid);
      shed.users.push(userid);
    }
    return shed;
  }

  private async contents(wecomId: number): Promise<Contents> {
    const [rows, tree] = await Promise.all([this.deps.wecom.listUserDepts(), this.deps.wecom.listDepts()]);
    return {
      users: [...new Set(rows.filter((r) => r.department === wecomId).map((r) => r.userid))].sort(),
      depts: tree.filter((d) => d.parentid === wecomId).map((d) => d.id),
    };
  }

  private async recordBlocked(
    id: string,
    why: string,
    e: PlatformError,
    left: Contents,
    dingtalkParentId: number | undefined,
    shed: Waiting,
  ): Promise<SyncOutcome> {
    const { states } = this.deps;
    const ownedUsers: EntityState[] = [];
    const foreignUsers: string[] = [];
    for (const userid of left.users) {
      const s = await states.get('user', userid);
      if (isOwned(s)) ownedUsers.push(s);
      else foreignUsers.push(userid);
    }
    const owners = left.depts.length ? ownersByWeComId(await states.list('dept')) : new Map<string, EntityState>();
    const message = blockedMessage(why, {
      foreignUsers,
      ownedUsers: ownedUsers.map((s) => `${s.id}${s.lastError ? ` (${s.lastError})` : ''}`),
      foreignDepts: left.depts.filter((d) => !owners.has(String(d))),
      ownedDepts: left.depts.filter((d) => owners.has(String(d))),
    });
    const state = (await states.get('dept', id))!;
    await states.save(state, {
      ...withWaiting(state, shed),
      status: 'blocked',
      blockedBy: left,
      lastErrcode: e.errcode,
      lastError: message,
      dingtalkParentId: dingtalkParentId ?? state.dingtalkParentId,
    });
    // Their next successful write (or deletion) may free it: they retry the deletion then.
    for (const member of ownedUsers) await this.markBlocking('user', member.id, id);
    for (const child of left.depts) {
      const owner = owners.get(String(child));
      if (owner) await this.markBlocking('dept', owner.id, id);
    }
    this.deps.logger?.warn('department blocked', { deptId: id, errcode: e.errcode, error: message, metric: 'BlockedDepartment' });
    return { kind: 'dept', id, result: 'failed', wecomId: state.wecomId, errcode: e.errcode, message };
  }

  private async markBlocking(kind: EntityKind, id: string, deptId: string): Promise<void> {
    const { states } = this.deps;
    const s = await states.get(kind, id);
    if (!s || s.blocking?.includes(deptId)) return;
    await states.save(s, { ...s, blocking: [...(s.blocking ?? []), deptId] }).catch((e: unknown) => {
      // Written meanwhile: that write already had its chance; the reconcile retries the deletion.
      if (!(e instanceof ConcurrentWriteError)) throw e;
    });
  }
}

function isNotEmpty(e: PlatformError): boolean {
  return e.errcode === WECOM_ERR.deptHasMembers || e.errcode === WECOM_ERR.deptHasChildren;
}

function isOwned(s: EntityState | undefined): s is EntityState {
  return !!s?.owned && !!s.wecomId && s.status !== 'deleted';
}

/** Owned department records by WeCom id. */
function ownersByWeComId(states: readonly EntityState[]): Map<string, EntityState> {
  return new Map(states.filter(isOwned).map((s) => [s.wecomId!, s]));
}

function blockedMessage(why: string, left: { foreignUsers: string[]; ownedUsers: string[]; foreignDepts: number[]; ownedDepts: number[] }): string {
  const parts: string[] = [];
  if (left.foreignUsers.length) parts.push(`members the sync does not own: ${left.foreignUsers.join(', ')}`);
  if (left.foreignDepts.length) parts.push(`departments the sync does not own: ${left.foreignDepts.join(', ')}`);
  if (left.ownedUsers.length) parts.push(`members whose own sync failed: ${left.ownedUsers.join('; ')}`);
  if (left.ownedDepts.length) parts.push(`departments whose own sync failed: ${left.ownedDepts.join(', ')}`);
  const foreign = left.foreignUsers.length + left.foreignDepts.length > 0;
  const owned = left.ownedUsers.length + left.ownedDepts.length > 0;
  const what = [
    foreign ? 'the sync never moves what it does not own: an administrator must move it' : undefined,
    owned ? 'what the sync owns moves out once its own write succeeds' : undefined,
  ].filter((p) => p !== undefined);
  return `department ${why} but WeCom cannot delete it while it holds ${parts.join('; ')}. ${capitalised(what.join('; '))}; the deletion is tried again when they change`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
