/**
 * Who is who between DingTalk and WeCom, and when an existing WeCom object may be taken over:
 * one set of rules for the worker (a create that finds the object) and the reconcile's plan
 * (an object its id lists show). Pure: no I/O.
 *
 * WeCom compares userids ignoring case, so every lookup of a WeCom userid goes through a folded
 * key; but only an object with exactly the DingTalk spelling is ever adopted. "Abc" and "abc" are
 * two people in DingTalk: taking WeCom's "Abc" over for "abc" would overwrite one person with
 * another, and a departure of "abc" would disable "Abc".
 */
import type { EntityState, WeComDeptRef, WeComUserDeptRow } from '../ports';

/** The key WeCom itself compares userids by. */
export function userKey(userid: string): string {
  return userid.toLowerCase();
}

/** One WeCom member as `user/list_id` shows it: its own spelling of the userid and its departments. */
export interface WeComMember {
  userid: string;
  departments: Set<number>;
}

/** `user/list_id` rows grouped by member, found by folded userid. */
export function indexWeComMembers(rows: readonly WeComUserDeptRow[]): Map<string, WeComMember> {
  const byKey = new Map<string, WeComMember>();
  for (const row of rows) {
    const key = userKey(row.userid);
    const member = byKey.get(key) ?? { userid: row.userid, departments: new Set<number>() };
    member.departments.add(row.department);
    byKey.set(key, member);
  }
  return byKey;
}

/**
 * What a WeCom member found under a DingTalk userid's folded key means for that user:
 * `absent` (nothing there), `same` (exactly this spelling: the user's own, or one to adopt), or
 * `case_conflict` (another spelling: another person, never adopted).
 */
export type UserMatch = { kind: 'absent' } | { kind: 'same' } | { kind: 'case_conflict'; wecomUserid: string; heldBy?: string };

export function matchUser(userid: string, member: Pick<WeComMember, 'userid'> | undefined): UserMatch {
  if (!member) return { kind: 'absent' };
  return member.userid === userid ? { kind: 'same' } : { kind: 'case_conflict', wecomUserid: member.userid };
}

/**
 * `matchUser` for a DingTalk user the store does not record as owning a member: an exact match
 * that another owned state already holds (an earlier adoption across case) is not free either.
 */
export function matchUnownedUser(userid: string, members: ReadonlyMap<string, WeComMember>, heldBy: ReadonlyMap<string, string>): UserMatch {
  const key = userKey(userid);
  const match = matchUser(userid, members.get(key));
  const holder = heldBy.get(key);
  if (match.kind === 'same' && holder !== undefined && holder !== userid) return { kind: 'case_conflict', wecomUserid: userid, heldBy: holder };
  return match;
}

/** The state's lastError for a case-only match: names both spellings (or the holder) and what an operator can do. */
export function caseConflictMessage(match: { wecomUserid: string; heldBy?: string }, userid: string): string {
  const { wecomUserid, heldBy } = match;
  if (heldBy !== undefined) {
    return `the WeCom member "${wecomUserid}" already belongs to DingTalk user "${heldBy}" (WeCom compares userids ignoring case): it is never taken over`;
  }
  return (
    `WeCom already has the member "${wecomUserid}", whose userid differs from "${userid}" only in case; WeCom compares ` +
    'userids ignoring case, so this is another person and is never taken over: change one of the userids in DingTalk, ' +
    `or remove "${wecomUserid}" from WeCom if it is a stale copy`
  );
}

/**
 * Whether a WeCom department that already has the wanted id may be taken over as a DingTalk
 * department's copy: only when it sits under the parent the copy belongs under, which is what a
 * create whose state write was lost leaves behind. One elsewhere is someone else's, made by hand
 * or by another tool; `parentid` undefined (the parent has no WeCom copy yet) never matches.
 * One the store records as another DingTalk department's copy (`heldByAnother`: WeCom assigned
 * it that id when its own was taken) is that department's, wherever it sits.
 */
export function mayAdoptDept(existing: Pick<WeComDeptRef, 'parentid'>, parentid: number | undefined, heldByAnother: boolean): boolean {
  return parentid !== undefined && existing.parentid === parentid && !heldByAnother;
}

/**
 * Whether the store records the WeCom department `existing` as another DingTalk department's copy
 * (WeCom gave it that id when the other's own was taken): not free for `dingId` to adopt.
 */
export function deptHeldByAnother(records: readonly EntityState[], dingId: string, existing: Pick<WeComDeptRef, 'id'>): boolean {
  return records.some((s) => s.id !== dingId && ownsInWeCom(s) && s.wecomId === String(existing.id));
}

/** The store records the sync as owning a WeCom object that has not been deleted. */
export function ownsInWeCom(state: EntityState | undefined): state is EntityState & { wecomId: string } {
  return !!state?.owned && !!state.wecomId && state.status !== 'deleted';
}

/**
 * An unconfirmed claim (a create that may have reached WeCom without being recorded) whose object
 * is there: the sync's own, though the store does not say so yet. Users match by exact userid;
 * departments by id and the parent the create asked for, unless the store records that WeCom
 * department as another DingTalk department's copy (`heldByAnother`: WeCom gave it the id when
 * that one's own was taken; the claim's create may never have succeeded).
 */
export function claimedUserPresent(state: EntityState | undefined, members: ReadonlyMap<string, WeComMember>): boolean {
  const wecomId = state?.claim?.wecomId;
  return wecomId !== undefined && members.get(userKey(wecomId))?.userid === wecomId;
}

export function claimedDeptPresent(
  state: EntityState | undefined,
  depts: ReadonlyMap<number, Pick<WeComDeptRef, 'parentid'>>,
  heldByAnother: (wecomId: string) => boolean,
): boolean {
  const wecomId = state?.claim?.wecomId;
  if (wecomId === undefined || heldByAnother(wecomId)) return false;
  const found = depts.get(Number(wecomId));
  const parentid = (state?.claim?.payload as { parentid?: number } | undefined)?.parentid;
  return found !== undefined && found.parentid === parentid;
}
