/**
 * The benchmarks' count of reporting lines (lib/sandbox/reporting-lines.ts), against the WeCom
 * simulator's stored members.
 */
import { expect, it } from 'vitest';
import type { DingTalkUser } from '../../lib/ports';
import { reportingLinesIn } from '../../lib/sandbox/reporting-lines';
import { WeComSimulator } from '../../lib/sandbox/wecom-sim';

const person = (userid: string, manager_userid?: string): DingTalkUser => ({
  userid,
  name: userid,
  dept_id_list: [1],
  ...(manager_userid ? { manager_userid } : {}),
});

it('counts the people whose manager is in the organisation, and those of them who report to that manager in WeCom', () => {
  const wc = new WeComSimulator({ rateLimitPerMinute: null });
  for (const [i, userid] of ['boss', 'a'].entries()) wc.seedUser({ userid, name: userid, department: [1], mobile: `+86 1380000000${i}` });
  wc.seedUser({ userid: 'd', name: 'd', department: [1], mobile: '+86 13800000009', direct_leader: ['boss'] });
  wc.seedUser({ userid: 'e', name: 'e', department: [1], mobile: '+86 13800000008', direct_leader: ['a'] });
  const users = [person('boss'), person('a', 'boss'), person('d', 'boss'), person('e', 'boss'), person('self', 'self'), person('x', 'outsider')];
  // a: no line yet; d: set; e: reports to someone else; self and x do not count.
  expect(reportingLinesIn(wc, users)).toEqual({ managed: 3, set: 1 });
});
