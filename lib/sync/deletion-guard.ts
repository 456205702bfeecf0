/**
 * The deletion guard: removing more than `maxRatio` of the owned users or departments in one run
 * looks like a misconfiguration (a wrong root, an app that lost its contact permission), so the
 * run stops before writing unless the operator allows it. Pure: judged on the plan's counts.
 */
import type { Plan } from './plan';

export interface GuardDecision {
  blocked: boolean;
  reason?: string;
}

/** Up to this many removals are always allowed, so a small organisation can still lose a person or a department. */
const DELETE_GUARD_FLOOR = 5;

export function deletionGuard(
  plan: Pick<Plan, 'ownedUsers' | 'ownedDepts' | 'userRemovals' | 'deptRemovals'>,
  maxRatio: number,
  allowDeletes: boolean,
  floor = DELETE_GUARD_FLOOR,
): GuardDecision {
  if (allowDeletes) return { blocked: false };
  const over = (removals: number, owned: number) => removals > Math.max(floor, Math.floor(maxRatio * owned));
  const reasons: string[] = [];
  if (over(plan.userRemovals, plan.ownedUsers)) reasons.push(`${plan.userRemovals} of ${plan.ownedUsers} owned users would be disabled or deleted`);
  if (over(plan.deptRemovals, plan.ownedDepts)) reasons.push(`${plan.deptRemovals} of ${plan.ownedDepts} owned departments would be deleted`);
  if (reasons.length === 0) return { blocked: false };
  return {
    blocked: true,
    reason: `${reasons.join('; ')}: more than SYNC_MAX_DELETE_RATIO=${maxRatio} (at least ${floor} always allowed). Check the scope and the DingTalk app's permissions; rerun with --allow-deletes after the npm script's -- (npm run reconcile -- --apply --allow-deletes; or {"allowDeletes":true}) if this is intended.`,
  };
}
