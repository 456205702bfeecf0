/**
 * Where a person goes in WeCom: their DingTalk departments, each judged and created by the
 * department sync (`DeptSync.placeUser`). One department that cannot be placed never blocks the
 * others: the person is written into every department that exists, and waits for the rest.
 */
import type { PlatformError } from '../errors';
import type { DingTalkUser } from '../ports';
import type { DeptSync } from './dept-sync';

export interface UserPlacement {
  /** DingTalk department id → WeCom department id, for every department the person can be in now. */
  wecomDeptIds: Map<number, number>;
  /** Departments WeCom refused to create: the person is synced again once they exist. */
  failed: { deptId: number; errcode?: number; message: string }[];
  /** Departments the DingTalk app may not read (50004): a configuration problem, never a departure. */
  invisible: { deptId: number; error: PlatformError }[];
}

export async function placeUser(depts: Pick<DeptSync, 'placeUser'>, user: DingTalkUser): Promise<UserPlacement> {
  const placement: UserPlacement = { wecomDeptIds: new Map(), failed: [], invisible: [] };
  for (const deptId of user.dept_id_list) {
    const p = await depts.placeUser(deptId, user.userid);
    if (p.kind === 'placed') placement.wecomDeptIds.set(deptId, p.wecomId);
    else if (p.kind === 'failed') placement.failed.push({ deptId, errcode: p.errcode, message: p.message });
    else if (p.kind === 'invisible') {
      // The person keeps the WeCom department they had for it, when the sync knows one.
      if (p.wecomId !== undefined) placement.wecomDeptIds.set(deptId, p.wecomId);
      placement.invisible.push({ deptId, error: p.error });
    }
  }
  return placement;
}
