/**
 * The convergence property's oracle: what WeCom must hold once the sync has caught up with
 * DingTalk, compared with what the WeCom simulator holds. Written apart from lib/sync/mapping.ts
 * on purpose, from the rules the README states, so the property does not just re-run the code
 * under test:
 *
 * - every DingTalk department but the root has one WeCom department, with DingTalk's name, under
 *   the WeCom department of its DingTalk parent (DingTalk's root is WeCom's root, 1);
 * - every person in DingTalk is an enabled WeCom member with the same userid, name, title
 *   (position), mobile (`+<state code> <number>`) and email, in exactly the WeCom departments of
 *   their DingTalk departments, leader in the same ones, reporting to their DingTalk manager
 *   when that manager is in DingTalk too;
 * - a person who left is either unknown to WeCom (never synced) or disabled and parked at the root;
 * - nothing else exists in WeCom but what was there before the sync and is not its own, and that
 *   is exactly as it was.
 *
 * The names the scenario generates need no cleaning (no characters WeCom refuses, short), so the
 * expected name is DingTalk's as it is. Orders are not compared. The one thing taken from the
 * sync is which WeCom id each department got (the state store's record): WeCom assigns the id
 * when DingTalk's is taken, and nothing else could tell.
 */
import type { DingTalkDept, DingTalkUser } from '../../ports';
import type { WeComSimDept, WeComSimUser } from '../wecom-sim';

const ROOT = 1;

export interface OracleInput {
  dingtalk: { depts: readonly DingTalkDept[]; users: readonly DingTalkUser[] };
  /** Userids of people who left DingTalk and did not come back. */
  formers: readonly string[];
  wecom: { depts: readonly WeComSimDept[]; users: readonly WeComSimUser[] };
  /** What WeCom held before the sync ran that is not the sync's: it must be untouched. */
  wecomOnly: { depts: readonly WeComSimDept[]; users: readonly WeComSimUser[] };
  /** DingTalk department id → the WeCom department id the sync recorded for it. */
  deptIds: ReadonlyMap<number, number>;
}

/** One way WeCom differs from what DingTalk says it should be. */
export interface Divergence {
  /** `dept 1004`, `user p012`, … */
  entity: string;
  what: string;
  expected: unknown;
  actual: unknown;
}

export function divergences(input: OracleInput): Divergence[] {
  const out: Divergence[] = [];
  const differ = (entity: string, what: string, expected: unknown, actual: unknown) => {
    if (JSON.stringify(expected) !== JSON.stringify(actual)) out.push({ entity, what, expected, actual });
  };
  const wecomDepts = new Map(input.wecom.depts.map((d) => [d.id, d]));
  const wecomUsers = new Map(input.wecom.users.map((u) => [u.userid, u]));
  const wecomIdOf = (dingId: number): number | undefined => (dingId === ROOT ? ROOT : input.deptIds.get(dingId));

  // Departments
  const mapped = new Map<number, number>();
  for (const dept of input.dingtalk.depts) {
    if (dept.dept_id === ROOT) continue;
    const entity = `dept ${dept.dept_id}`;
    const id = wecomIdOf(dept.dept_id);
    const found = id === undefined ? undefined : wecomDepts.get(id);
    if (id === undefined || !found) {
      out.push({
        entity,
        what: 'exists in WeCom',
        expected: { name: dept.name, parent: dept.parent_id },
        actual: id === undefined ? 'no record' : `no WeCom department ${id}`,
      });
      continue;
    }
    const other = mapped.get(id);
    if (other !== undefined) out.push({ entity, what: 'has its own WeCom department', expected: 'one each', actual: `shares ${id} with dept ${other}` });
    mapped.set(id, dept.dept_id);
    differ(entity, 'name', dept.name, found.name);
    differ(entity, 'parent', wecomIdOf(dept.parent_id!) ?? `(parent ${dept.parent_id} unmapped)`, found.parentid);
  }

  // People in DingTalk
  const current = new Set(input.dingtalk.users.map((u) => u.userid));
  for (const user of input.dingtalk.users) {
    const entity = `user ${user.userid}`;
    const found = wecomUsers.get(user.userid);
    if (!found) {
      out.push({ entity, what: 'exists in WeCom', expected: user.dept_id_list, actual: 'absent' });
      continue;
    }
    differ(entity, 'enable', 1, found.enable);
    differ(entity, 'name', user.name, found.name);
    differ(entity, 'position', user.title ?? '', found.position ?? '');
    differ(entity, 'mobile', user.mobile === undefined ? undefined : `+${user.state_code ?? '86'} ${user.mobile}`, found.mobile);
    differ(entity, 'email', user.email, found.email);
    const leads = new Set((user.leader_in_dept ?? []).filter((l) => l.leader).map((l) => l.dept_id));
    const expectedDepts = user.dept_id_list.map((d) => `${wecomIdOf(d) ?? `(dept ${d} unmapped)`}${leads.has(d) ? '*' : ''}`).sort();
    const actualDepts = found.department.map((d, i) => `${d}${found.is_leader_in_dept[i] ? '*' : ''}`).sort();
    differ(entity, 'departments (* = leader)', expectedDepts, actualDepts);
    const manager = user.manager_userid;
    differ(entity, 'direct_leader', manager && manager !== user.userid && current.has(manager) ? [manager] : [], found.direct_leader);
  }

  // People who left
  for (const userid of input.formers) {
    const found = wecomUsers.get(userid);
    if (found && (found.enable !== 0 || JSON.stringify(found.department) !== JSON.stringify([ROOT]))) {
      out.push({
        entity: `user ${userid}`,
        what: 'left: disabled at the root',
        expected: { enable: 0, department: [ROOT] },
        actual: { enable: found.enable, department: found.department },
      });
    }
  }

  // What is not the sync's, and what should not exist
  const onlyDepts = new Map(input.wecomOnly.depts.map((d) => [d.id, d]));
  const onlyUsers = new Map(input.wecomOnly.users.map((u) => [u.userid, u]));
  for (const [id, before] of onlyDepts) differ(`WeCom-only dept ${id}`, 'untouched', before, wecomDepts.get(id) ?? 'absent');
  for (const [userid, before] of onlyUsers) differ(`WeCom-only user ${userid}`, 'untouched', before, wecomUsers.get(userid) ?? 'absent');
  for (const dept of input.wecom.depts) {
    if (dept.id !== ROOT && !onlyDepts.has(dept.id) && !mapped.has(dept.id)) {
      out.push({
        entity: `WeCom dept ${dept.id}`,
        what: 'exists',
        expected: 'absent (no DingTalk department maps to it)',
        actual: { name: dept.name, parentid: dept.parentid },
      });
    }
  }
  const formers = new Set(input.formers);
  for (const user of input.wecom.users) {
    if (!current.has(user.userid) && !formers.has(user.userid) && !onlyUsers.has(user.userid)) {
      out.push({
        entity: `WeCom user ${user.userid}`,
        what: 'exists',
        expected: 'absent (never in DingTalk)',
        actual: { enable: user.enable, department: user.department },
      });
    }
  }
  return out;
}
