/**
 * The reconcile plan's department removals: owned departments gone from DingTalk's scope, deleted
 * children first (depth in WeCom's tree) after the users have been moved out. A department
 * recorded as `blocked` is tried again only when what WeCom holds in it differs from what blocked
 * it; otherwise it is listed for the report, every run, until an administrator acts. Pure.
 */
import type { EntityState, WeComDeptRef, WeComUserDeptRow } from '../ports';
import { WECOM_ROOT_DEPT_ID } from './mapping';

export interface DeptDeleteOp {
  op: 'delete_dept';
  kind: 'dept';
  id: string;
  wecomId: string;
  changes: string;
}

/** A department that must go but cannot, and why: for the report. */
export interface BlockedDept {
  id: string;
  wecomId: string;
  errcode?: number;
  message: string;
}

export interface DeptRemovalsInput {
  /** Owned department records (not deleted), with their WeCom ids. */
  owned: readonly (EntityState & { wecomId: string })[];
  /** Whether a DingTalk department is in the sync scope (the scan found it). */
  inScope(deptId: number): boolean;
  wecomDepts: readonly WeComDeptRef[];
  wecomUserDepts: readonly WeComUserDeptRow[];
}

export function planDeptRemovals(input: DeptRemovalsInput): { deletes: DeptDeleteOp[]; blocked: BlockedDept[] } {
  const wecomDept = new Map(input.wecomDepts.map((d) => [d.id, d]));
  const wecomDepth = memoDepth(
    (id) => wecomDept.get(id)?.parentid,
    (id) => id === WECOM_ROOT_DEPT_ID || !wecomDept.has(id),
  );
  const deletes: DeptDeleteOp[] = [];
  const blocked: BlockedDept[] = [];
  for (const state of input.owned) {
    if (input.inScope(Number(state.id))) continue;
    const wecomId = Number(state.wecomId);
    if (!wecomDept.has(wecomId)) continue; // already gone from WeCom too: nothing to write
    if (state.status === 'blocked' && sameContents(state.blockedBy, contentsOf(wecomId, input))) {
      blocked.push({ id: state.id, wecomId: state.wecomId, errcode: state.lastErrcode, message: state.lastError ?? 'blocked' });
      continue;
    }
    const changes = state.status === 'blocked' ? 'what blocked the deletion changed: delete' : 'gone from DingTalk or the scope: delete';
    deletes.push({ op: 'delete_dept', kind: 'dept', id: state.id, wecomId: state.wecomId, changes });
  }
  deletes.sort((a, b) => wecomDepth(Number(b.wecomId)) - wecomDepth(Number(a.wecomId)));
  return { deletes, blocked };
}

function contentsOf(wecomId: number, input: DeptRemovalsInput): { users: string[]; depts: number[] } {
  return {
    users: input.wecomUserDepts.filter((r) => r.department === wecomId).map((r) => r.userid),
    depts: input.wecomDepts.filter((d) => d.parentid === wecomId).map((d) => d.id),
  };
}

function sameContents(a: { users: string[]; depts: number[] } | undefined, b: { users: string[]; depts: number[] }): boolean {
  if (!a) return false;
  const same = <T>(x: readonly T[], y: readonly T[]) => new Set(x).size === new Set(y).size && x.every((v) => y.includes(v));
  return same(a.users, b.users) && same(a.depts, b.depts);
}

/** Depth in a parent-linked tree, memoised, safe against cycles in inconsistent data. */
export function memoDepth(parentOf: (id: number) => number | undefined, isTop: (id: number) => boolean): (id: number) => number {
  const memo = new Map<number, number>();
  const depth = (id: number, guard = 0): number => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const parent = parentOf(id);
    const d = isTop(id) || parent === undefined || guard > 64 ? 0 : depth(parent, guard + 1) + 1;
    memo.set(id, d);
    return d;
  };
  return (id) => depth(id);
}
