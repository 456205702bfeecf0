/**
 * Who may be a person's `direct_leader` in WeCom: one rule for the worker, which writes it, and
 * the reconcile's plan, which predicts what the worker will write. When the two disagree, the
 * plan schedules a write on every run that the worker then finds unchanged. Pure: no I/O.
 */
import type { DingTalkUser, EntityState } from '../ports';

/** The user's `direct_leader` list: their DingTalk manager when `leads` says that manager can lead, else none. */
export function directLeaderFor(user: Pick<DingTalkUser, 'userid' | 'manager_userid'>, leads: (userid: string) => boolean): string[] {
  const manager = user.manager_userid;
  return manager && manager !== user.userid && leads(manager) ? [manager] : [];
}

/**
 * A payload whose `direct_leader` was kept from the last write (a listing cannot tell the
 * manager) without anyone who can no longer lead: a manager who left since leads no one, and
 * predicting that schedules the full read that writes it (no event tells of the report).
 */
export function withoutFormerLeaders<P extends { direct_leader?: string[] }>(payload: P, leads: (userid: string) => boolean): P {
  const kept = payload.direct_leader;
  if (!kept || kept.every(leads)) return payload;
  return { ...payload, direct_leader: kept.filter(leads) };
}

/**
 * A manager can lead in WeCom once the sync has written them there successfully: owned (created
 * or adopted), with a WeCom id, and synced. A manager whose write failed may not exist in WeCom
 * (WeCom refuses a direct_leader that is not a member), and a leaver is no longer a manager.
 */
export function mayLead(state: EntityState | undefined): boolean {
  return !!state?.owned && !!state.wecomId && state.status === 'synced';
}

/**
 * The plan's prediction of `mayLead` when the run's writes reach the report: managers are
 * written before their reports (apply-plan's manager waves), so
 * - a manager in DingTalk's scope whose last write did not fail will be synced by then (created,
 *   adopted, updated or re-enabled this run, or already synced);
 * - one whose last write failed is not counted: the retry may fail the same way, and if it
 *   succeeds the next run sets the report's leader;
 * - one out of scope keeps leading only while the leave policy leaves them synced (`ignore`).
 */
export function willLead(state: EntityState | undefined, inScope: boolean, keepsLeaversSynced: boolean): boolean {
  if (!inScope) return keepsLeaversSynced && mayLead(state);
  return state?.status !== 'failed';
}
