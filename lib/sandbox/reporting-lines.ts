/**
 * How many reporting lines of a generated organisation WeCom holds: for the benchmarks, which
 * print it after a burst of events and after a first import.
 */
import type { DingTalkUser } from '../ports';
import type { WeComSimulator } from './wecom-sim';

/** Of the people whose DingTalk manager is in `users` too (`managed`), how many report to that manager in WeCom (`set`). */
export function reportingLinesIn(wc: Pick<WeComSimulator, 'getUser'>, users: readonly DingTalkUser[]): { managed: number; set: number } {
  const inOrg = new Set(users.map((u) => u.userid));
  const managed = users.filter((u) => u.manager_userid && u.manager_userid !== u.userid && inOrg.has(u.manager_userid));
  const set = managed.filter((u) => wc.getUser(u.userid)?.direct_leader?.[0] === u.manager_userid).length;
  return { managed: managed.length, set };
}
