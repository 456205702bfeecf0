/**
 * The full reconcile's plan: from DingTalk's scope, the state store and WeCom's id lists, the
 * operations that make WeCom match — and nothing for what already does. Pure: no I/O.
 *
 * What WeCom lets the contact-sync secret see is ids only (48009 on detail reads), so drift is
 * judged two ways: fields against the hash of what the sync last wrote (the store), and structure
 * (which departments exist, their parents, each user's departments) against WeCom's id lists.
 * Field edits made by hand in WeCom are invisible; `rewriteAll` rewrites every owned entity.
 *
 * Ownership: only entities the store records as owned (created or adopted by the sync), or whose
 * unconfirmed create claim WeCom shows, are updated, disabled or deleted. A WeCom object that
 * matches a DingTalk entity but that the store does not know is adopted only as identity.ts
 * allows: a user with exactly the same userid (one equal only ignoring case is a conflict, named
 * in the report), a department with the same id under the same parent. Anything else in WeCom is
 * never touched.
 *
 * Fields: the DingTalk side comes from listings, which lack some fields (field-provenance.ts);
 * those are neither compared nor written here, except for the people the run read in full (the
 * detail sweep's slice, reconcile-details.ts), whose records lack nothing. `direct_leader` is predicted by the same rule the
 * worker applies (direct-leader.ts), so a plan made after one run is empty.
 */
import type { LeavePolicy } from '../config';

import type { DingTalkDept, DingTalkUser, EntityState, WeComDeptPayload, WeComDeptRef, WeComUserDeptRow, WeComUserPayload } from '../ports';
import { indexLeaverContacts, leaversHolding } from './contact-release';
import { willLead, withoutFormerLeaders } from './direct-leader';
import { keepUnknownFields } from './field-provenance';
import { caseConflictMessage, claimedDeptPresent, indexWeComMembers, matchUnownedUser, mayAdoptDept, ownsInWeCom, userKey } from './identity';
import { MappingError, mapDept, mapUser, WECOM_ROOT_DEPT_ID, wecomDeptIdFor } from './mapping';
import { deptOrderChanged, deptPayloadHash, payloadHash } from './payload-hash';
import { type BlockedDept, memoDepth, planDeptRemovals } from './plan-dept-removals';
import { planLeavers } from './plan-leavers';
import { type ScopeRules, SyncScope } from './scope';

type DeptOpKind = 'create_dept' | 'adopt_dept' | 'update_dept' | 'restore_dept' | 'move_dept' | 'rewrite_dept' | 'delete_dept';
type UserOpKind =
  | 'create_user'
  | 'adopt_user'
  | 'update_user'
  | 'reenable_user'
  | 'restore_user'
  | 'rewrite_user'
  | 'retry_user'
  | 'disable_user'
  | 'delete_user';

export type PlanOp =
  | {
      op: Exclude<DeptOpKind, 'delete_dept'>;
      kind: 'dept';
      id: string;
      wecomId?: string;
      changes: string;
      dept: DingTalkDept;
      force: boolean;
      stateVersion: number;
    }
  | { op: 'delete_dept'; kind: 'dept'; id: string; wecomId: string; changes: string }
  | {
      op: Exclude<UserOpKind, 'disable_user' | 'delete_user'>;
      kind: 'user';
      id: string;
      wecomId?: string;
      changes: string;
      user: DingTalkUser;
      force: boolean;
      stateVersion: number;
      /** Disabled leavers holding this user's mobile or email, which they give up if WeCom refuses the write for it. */
      releaseFrom?: string[];
    }
  | { op: 'disable_user' | 'delete_user'; kind: 'user'; id: string; wecomId: string; changes: string }
  /** WeCom's member for this userid (`wecomId`) is another person's: the conflict (`changes`) is recorded, nothing written. */
  | { op: 'conflict_user'; kind: 'user'; id: string; wecomId: string; changes: string };

export interface PlanInput {
  /** Departments in scope (not DingTalk's root when it maps to WeCom's root), with parents. */
  dingtalkDepts: readonly DingTalkDept[];
  /** Users in scope, each once. */
  dingtalkUsers: readonly DingTalkUser[];
  deptStates: readonly EntityState[];
  userStates: readonly EntityState[];
  wecomDepts: readonly WeComDeptRef[];
  wecomUserDepts: readonly WeComUserDeptRow[];
  config: { onLeave: LeavePolicy; toInvite: boolean } & ScopeRules;
  rewriteAll?: boolean;
}

export interface Plan {
  ops: PlanOp[];
  /**
   * What the deletion guard judges removals against: owned users the leave policy could still
   * remove (under `disable`, users already disabled or ignored are not counted), and owned
   * departments not yet deleted.
   */
  ownedUsers: number;
  ownedDepts: number;
  userRemovals: number;
  deptRemovals: number;
  /** Departments that must go but that WeCom holds things in the sync may not move: reported on every run. */
  blocked: BlockedDept[];
  /**
   * People in DingTalk's scope whose last write left out a manager, also in scope, who could not
   * lead then (`leaderWithheld`): after the run's writes, each is written again if that manager
   * can lead now (apply-plan.ts). Not operations: most need nothing, and cost no call to find out.
   */
  reportingLinesWaiting: string[];
}

export function planReconcile(input: PlanInput): Plan {
  const roots = new Set(input.config.rootDeptIds);
  const scope = new SyncScope(input.config);
  const deptState = new Map(input.deptStates.map((s) => [s.id, s]));
  const userState = new Map(input.userStates.map((s) => [s.id, s]));
  const wecomDept = new Map(input.wecomDepts.map((d) => [d.id, d]));
  // WeCom finds members by userid ignoring case: so does every lookup here.
  const wecomMembers = indexWeComMembers(input.wecomUserDepts);
  const owns = ownsInWeCom;

  // ---- Departments, parent first
  const dingDepts = new Map(input.dingtalkDepts.map((d) => [d.dept_id, d]));
  const depthOf = memoDepth(
    (id) => dingDepts.get(id)?.parent_id,
    (id) => roots.has(id) || !dingDepts.has(id),
  );
  const deptOps: PlanOp[] = [];
  /** WeCom department ids the store records as some DingTalk department's copy, and whose. */
  const heldDepts = new Map(input.deptStates.filter(owns).map((s) => [s.wecomId, s.id]));
  /** The WeCom id a DingTalk department has now, when known; new departments get theirs on apply. */
  const mappedDept = (dingId: number): number | undefined => {
    // The worker's judge (scope.ts): DingTalk's root excluded is no place for anyone.
    if (scope.mapsToWeComRoot(dingId)) return WECOM_ROOT_DEPT_ID;
    // A department the sync once wrote but that is now excluded or outside the roots is not a
    // place to put people (EntitySync drops it too); keeping it would leave members in a
    // department about to be deleted, and plan an update on every run.
    if (!dingDepts.has(dingId)) return undefined;
    const s = deptState.get(String(dingId));
    // As in EntitySync: a department whose last update failed still exists and still holds people.
    return owns(s) && s.status !== 'pending' && wecomDept.has(Number(s.wecomId)) ? Number(s.wecomId) : undefined;
  };
  for (const dept of [...input.dingtalkDepts].sort((a, b) => depthOf(a.dept_id) - depthOf(b.dept_id) || a.dept_id - b.dept_id)) {
    const id = String(dept.dept_id);
    const state = deptState.get(id);
    const push = (op: Exclude<DeptOpKind, 'delete_dept'>, changes: string, force: boolean) =>
      deptOps.push({ op, kind: 'dept', id, wecomId: state?.wecomId, changes, dept, force, stateVersion: state?.version ?? 0 });
    if (!owns(state)) {
      const wanted = wecomDeptIdFor(dept.dept_id);
      const existing = wanted === undefined ? undefined : wecomDept.get(wanted);
      const parentid = roots.has(dept.dept_id) ? WECOM_ROOT_DEPT_ID : dept.parent_id === undefined ? undefined : mappedDept(dept.parent_id);
      // As the worker decides on the same id (mayAdoptDept): one elsewhere, or another record's copy, is someone else's, and WeCom assigns a new id.
      const heldByAnother = wanted !== undefined && (heldDepts.get(String(wanted)) ?? id) !== id;
      if (existing && mayAdoptDept(existing, parentid, heldByAnother)) push('adopt_dept', `adopt WeCom department ${wanted} as "${dept.name}"`, false);
      // A create that failed is retried here even if nothing changed (the worker does not retry it).
      else if (state?.status === 'failed') push('create_dept', `retry create "${dept.name}" after ${state.lastErrcode ?? 'an error'}`, true);
      else push('create_dept', `create "${dept.name}"`, false);
      continue;
    }
    const wecomId = Number(state.wecomId);
    const inWeCom = wecomDept.get(wecomId);
    if (!inWeCom) {
      push('restore_dept', `deleted in WeCom: create "${dept.name}" again`, true);
      continue;
    }
    const parentid = roots.has(dept.dept_id) ? WECOM_ROOT_DEPT_ID : dept.parent_id === undefined ? undefined : mappedDept(dept.parent_id);
    if (parentid === undefined) {
      push('update_dept', `parent ${dept.parent_id} is new: place under it`, false);
      continue;
    }
    const payload = mapDept(dept, parentid);
    const lastWritten = state.payload as WeComDeptPayload | undefined;
    const retry = state.status === 'failed' || state.status === 'blocked';
    if (retry || deptPayloadHash(payload) !== state.payloadHash || deptOrderChanged(lastWritten, payload)) {
      // A recorded failure is retried here even if nothing changed (the worker does not retry it);
      // a blocked department back in the scope is simply kept.
      push('update_dept', describeDeptChange(state, payload) || `retry after ${state.lastErrcode ?? 'an error'}`, retry);
    } else if (inWeCom.parentid !== parentid) {
      push('move_dept', `moved in WeCom to ${inWeCom.parentid}: move back under ${parentid}`, true);
    } else if (input.rewriteAll) {
      push('rewrite_dept', 'rewrite (--rewrite-all)', true);
    }
  }

  // ---- Users
  const dingUsers = new Map(input.dingtalkUsers.map((u) => [u.userid, u]));
  const keepsLeaversSynced = input.config.onLeave === 'ignore';
  const leads = (id: string) => willLead(userState.get(id), dingUsers.has(id), keepsLeaversSynced);
  // ---- Leavers: owned users no longer in DingTalk's scope. Those this run disables count as
  // disabled leavers already: apply-plan.ts removes leavers before it writes anyone else, so a
  // person who needs a mobile or email one of them holds can take it in the same run.
  const { removalOps, ownedUsers } = planLeavers(input.userStates, dingUsers, wecomMembers, input.config.onLeave);
  const disabling = new Set(removalOps.filter((o) => o.op === 'disable_user').map((o) => o.id));
  const leavers = indexLeaverContacts(input.userStates.map((s) => (disabling.has(s.id) && owns(s) ? { ...s, status: 'disabled' as const } : s)));
  // Owned users by the WeCom member they hold: an exact match that another state holds is not free to adopt.
  const heldMembers = new Map(input.userStates.filter(owns).map((s) => [userKey(s.wecomId), s.id]));
  const userOps: PlanOp[] = [];
  for (const user of input.dingtalkUsers) {
    const id = user.userid;
    const state = userState.get(id);
    const releaseFrom = leavers.size ? leaversHolding(user, leavers) : [];
    const push = (op: Exclude<UserOpKind, 'disable_user' | 'delete_user'>, changes: string, force: boolean) =>
      userOps.push({
        op,
        kind: 'user',
        id,
        wecomId: state?.wecomId ?? (op === 'adopt_user' ? id : undefined),
        changes: releaseFrom.length ? `${changes}; may take contact details from disabled ${releaseFrom.join(', ')}` : changes,
        user,
        force,
        stateVersion: state?.version ?? 0,
        ...(releaseFrom.length ? { releaseFrom } : {}),
      });
    if (!owns(state)) {
      const match = matchUnownedUser(id, wecomMembers, heldMembers);
      if (match.kind === 'case_conflict') {
        userOps.push({ op: 'conflict_user', kind: 'user', id, wecomId: match.wecomUserid, changes: caseConflictMessage(match, id) });
      } else if (match.kind === 'same') push('adopt_user', 'adopt the WeCom user with this userid', false);
      else if (state?.status === 'failed') push('retry_user', `retry create after ${state.lastErrcode ?? ''} ${state.lastError ?? ''}`.trim(), true);
      else push('create_user', `create "${user.name}"`, false);
      continue;
    }
    if (state.status === 'disabled' || state.status === 'ignored') {
      push('reenable_user', `back in DingTalk's scope: re-enable`, false);
      continue;
    }
    if (state.status === 'failed') {
      push('retry_user', `retry after ${state.lastErrcode ?? ''} ${state.lastError ?? ''}`.trim(), true);
      continue;
    }
    const inWeCom = wecomMembers.get(userKey(state.wecomId))?.departments;
    if (!inWeCom) {
      push('restore_user', 'deleted in WeCom: create again', true);
      continue;
    }
    let payload: WeComUserPayload | undefined;
    const unmapped = user.dept_id_list.some((d) => dingDepts.has(d) && mappedDept(d) === undefined);
    if (!unmapped) {
      try {
        const mapped = mapUser(user, { wecomDeptId: mappedDept, isSyncedUser: leads, toInvite: input.config.toInvite });
        payload = withoutFormerLeaders(keepUnknownFields(mapped, user, state.payload as WeComUserPayload | undefined), leads);
      } catch (e) {
        if (!(e instanceof MappingError)) throw e;
      }
    }
    const written = new Set((state.payload as WeComUserPayload | undefined)?.department ?? []);
    const drifted = !sameSet(written, inWeCom);
    if (!payload || payloadHash(payload) !== state.payloadHash) {
      // Forced when WeCom's departments drifted too: the write must happen even if the new
      // payload turns out to hash like the stored one (a restored department keeps its id).
      push('update_user', payload ? describeUserChange(state, payload) : 'changed in DingTalk', drifted);
      continue;
    }
    if (drifted) {
      push('restore_user', `departments changed in WeCom (${[...inWeCom].join(',')}): put back to ${[...written].join(',')}`, true);
    } else if (input.rewriteAll) {
      push('rewrite_user', 'rewrite (--rewrite-all)', true);
    }
  }

  // ---- Departments gone from DingTalk's scope, children first. A create whose saved result was
  // lost counts as owned when WeCom has what it claimed (as the worker judges it).
  const ownedDeptStates = input.deptStates.flatMap((stored) =>
    owns(stored)
      ? [stored]
      : claimedDeptPresent(stored, wecomDept, (wecomId) => heldDepts.has(wecomId) && heldDepts.get(wecomId) !== stored.id)
        ? [{ ...stored, wecomId: stored.claim!.wecomId! }]
        : [],
  );
  const { deletes: deptDeletes, blocked } = planDeptRemovals({
    owned: ownedDeptStates,
    inScope: (id) => dingDepts.has(id),
    wecomDepts: input.wecomDepts,
    wecomUserDepts: input.wecomUserDepts,
  });

  // A create whose id WeCom assigns, still in doubt (its answer lost), for a department gone from
  // DingTalk's scope: the WeCom id is unknown, so the deletion first finds the copy that try may
  // have made (dept-removal.ts). Before the others: that copy may sit in a department going too.
  const inDoubtDeletes: PlanOp[] = input.deptStates
    .filter((s) => !owns(s) && s.creating !== undefined && s.status !== 'deleted' && !dingDepts.has(Number(s.id)))
    .map((s) => ({
      op: 'delete_dept',
      kind: 'dept',
      id: s.id,
      wecomId: '?',
      changes: 'gone while its create was in doubt: find the copy it may have made, and delete it',
    }));

  return {
    ops: [...deptOps, ...userOps, ...removalOps, ...inDoubtDeletes, ...deptDeletes],
    ownedUsers,
    ownedDepts: ownedDeptStates.length,
    userRemovals: removalOps.length,
    deptRemovals: inDoubtDeletes.length + deptDeletes.length,
    blocked,
    reportingLinesWaiting: input.userStates
      .filter((s) => owns(s) && s.status === 'synced' && s.leaderWithheld !== undefined && dingUsers.has(s.id) && dingUsers.has(s.leaderWithheld))
      .map((s) => s.id),
  };
}

/** Operations planned, per kind. */
export function countOps(ops: readonly PlanOp[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const op of ops) counts[op.op] = (counts[op.op] ?? 0) + 1;
  return counts;
}

function describeDeptChange(state: EntityState, payload: { name: string; parentid: number; order?: number }): string {
  const before = state.payload as { name?: string; parentid?: number; order?: number } | undefined;
  const parts: string[] = [];
  if (before?.name !== payload.name) parts.push(`name "${before?.name ?? ''}" → "${payload.name}"`);
  if (before?.parentid !== payload.parentid) parts.push(`parent ${before?.parentid ?? '?'} → ${payload.parentid}`);
  if (payload.order !== undefined && before?.order !== payload.order) parts.push('order');
  return parts.join(', ');
}

function describeUserChange(state: EntityState, payload: WeComUserPayload): string {
  const before = (state.payload ?? {}) as Record<string, unknown>;
  const changed = Object.keys(payload).filter((k) => JSON.stringify(before[k]) !== JSON.stringify((payload as unknown as Record<string, unknown>)[k]));
  return changed.length ? `changed: ${changed.join(', ')}` : 'changed';
}

function sameSet<T>(a: Set<T>, b: Set<T>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
