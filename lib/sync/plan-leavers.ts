/**
 * The reconcile plan's leavers: users the sync owns that are no longer in DingTalk's scope, and
 * what SYNC_ON_LEAVE does to them. Pure: no I/O.
 */
import type { LeavePolicy } from '../config';
import type { DingTalkUser, EntityState } from '../ports';
import { claimedUserPresent, ownsInWeCom, type WeComMember } from './identity';
import type { PlanOp } from './plan';

export function planLeavers(
  userStates: readonly EntityState[],
  dingUsers: ReadonlyMap<string, DingTalkUser>,
  wecomMembers: ReadonlyMap<string, WeComMember>,
  onLeave: LeavePolicy,
): { removalOps: PlanOp[]; ownedUsers: number } {
  const removalOps: PlanOp[] = [];
  let ownedUsers = 0;
  for (const stored of userStates) {
    // An unconfirmed create that WeCom shows is the sync's own (its saved result was lost).
    const state = ownsInWeCom(stored) ? stored : claimedUserPresent(stored, wecomMembers) ? { ...stored, wecomId: stored.claim!.wecomId! } : undefined;
    if (!state) continue;
    // The guard's denominator is the people this policy could still remove: under `disable`,
    // leavers disabled in earlier runs do not count, or years of them would dilute the ratio
    // until a wrong root could disable most of the active company unnoticed.
    const alreadyRemoved = onLeave !== 'delete' && (state.status === 'disabled' || state.status === 'ignored');
    if (!alreadyRemoved) ownedUsers++;
    if (dingUsers.has(state.id) || onLeave === 'ignore') continue;
    if (onLeave === 'disable' && state.status !== 'disabled' && state.status !== 'ignored') {
      removalOps.push({ op: 'disable_user', kind: 'user', id: state.id, wecomId: state.wecomId, changes: 'left DingTalk or the scope: disable' });
    } else if (onLeave === 'delete') {
      removalOps.push({ op: 'delete_user', kind: 'user', id: state.id, wecomId: state.wecomId, changes: 'left DingTalk or the scope: delete' });
    }
  }
  return { removalOps, ownedUsers };
}
