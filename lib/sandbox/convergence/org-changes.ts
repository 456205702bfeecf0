/**
 * Organisation changes for the convergence property, as data: what an HR department does in
 * DingTalk (departments created, renamed, moved and deleted; people joining, edited, moved,
 * leaving and coming back), applied to the DingTalk simulator without pushing anything. Each
 * change returns the events DingTalk would push for it, for the scenario to deliver (or not).
 *
 * Changes name departments and people by a number resolved, modulo the count, against what
 * exists when the change is applied: any list of changes is valid, so fast-check can drop or
 * simplify changes while shrinking. A change that cannot apply (nothing to rename, a name every
 * sibling already has, a move that would make a cycle or too deep a tree) does nothing.
 *
 * DingTalk's own rules are kept: sibling departments have distinct names, a department is deleted
 * only once no one is in it or below it (its members are moved out first, one event each), mobile
 * numbers are unique among current staff. A leaver's mobile may later go to a new person.
 */
import type { DingTalkDept, DingTalkUser } from '../../ports';
import { DINGTALK_ROOT_DEPT_ID } from '../../sync/mapping';
import type { DingTalkSimulator } from '../dingtalk-sim';

/** A reference to an existing department or person: an index taken modulo the current count. */
type Ref = number;

export type Change =
  | { op: 'addDept'; parent: Ref; name: Ref }
  | { op: 'renameDept'; dept: Ref; name: Ref }
  | { op: 'moveDept'; dept: Ref; parent: Ref }
  /** Members anywhere in the subtree are first moved out; those left with no department go to `to`. */
  | { op: 'removeDept'; dept: Ref; to: Ref }
  | { op: 'addPerson'; depts: Ref[]; leader: boolean; manager: Ref | null; reuseMobile: Ref | null }
  /** `title` null clears it; `manager` null clears it, undefined keeps it. */
  | { op: 'editPerson'; person: Ref; rename: boolean; title?: Ref | null; newMobile: boolean; manager?: Ref | null }
  | { op: 'movePerson'; person: Ref; depts: Ref[]; leader: boolean }
  | { op: 'leave'; person: Ref }
  | { op: 'rejoin'; former: Ref; depts: Ref[] };

/** One event DingTalk pushes: envelope A's type and ids. */
export interface OrgEvent {
  eventType: string;
  userIds?: string[];
  deptIds?: number[];
}

export interface AppliedChange {
  /** What happened, with the ids it resolved to: a line of a reproduction. */
  text: string;
  events: OrgEvent[];
}

/** Few names, so renames and moves run into taken names (and name swaps) often. */
const DEPT_NAMES = ['研发', '市场', '销售', '财务', '人事', 'Ops', 'QA', '法务'];
const PERSON_NAMES = ['张伟', '王芳', '李娜', '刘洋', '陈静', 'Alex Chen', '赵磊', '孙丽'];
const TITLES = ['工程师', '经理', '总监', '专员', 'Designer'];
/** Levels counting the root; WeCom allows 15, and deep trees add nothing to what is tested here. */
const MAX_DEPTH = 6;

const pick = <T>(list: readonly T[], ref: Ref): T | undefined => (list.length === 0 ? undefined : list[ref % list.length]);

export class OrgChanger {
  /** People who left and have not come back, with what they had. */
  private readonly formers = new Map<string, DingTalkUser>();
  private nextPerson = 1;
  private nextMobile = 1;

  constructor(private readonly dt: DingTalkSimulator) {}

  /** Userids of people who left and did not come back. */
  formerIds(): string[] {
    return [...this.formers.keys()].sort();
  }

  /** A small starting organisation: 4 departments on 2 levels, 8 people, 3 reporting lines. */
  seed(): void {
    const depts = [
      { dept_id: 1000, name: '研发', parent_id: 1 },
      { dept_id: 1001, name: '市场', parent_id: 1 },
      { dept_id: 1002, name: 'QA', parent_id: 1000 },
      { dept_id: 1003, name: 'Ops', parent_id: 1000 },
    ];
    const homes = [1000, 1000, 1001, 1002, 1002, 1003, 1001, 1];
    const users = homes.map((dept, i) => ({
      ...this.newPerson([dept], i === 0 || i === 3),
      manager_userid: i === 1 || i === 4 ? 'p001' : i === 6 ? 'p003' : undefined,
    }));
    this.dt.seed({ depts, users });
  }

  apply(change: Change): AppliedChange | undefined {
    switch (change.op) {
      case 'addDept':
        return this.addDept(change.parent, change.name);
      case 'renameDept':
        return this.renameDept(change.dept, change.name);
      case 'moveDept':
        return this.moveDept(change.dept, change.parent);
      case 'removeDept':
        return this.removeDept(change.dept, change.to);
      case 'addPerson':
        return this.addPerson(change);
      case 'editPerson':
        return this.editPerson(change);
      case 'movePerson':
        return this.movePerson(change.person, change.depts, change.leader);
      case 'leave':
        return this.leave(change.person);
      case 'rejoin':
        return this.rejoin(change.former, change.depts);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Departments

  private addDept(parentRef: Ref, nameRef: Ref): AppliedChange | undefined {
    const parent = pick(this.depts(), parentRef)!;
    if (this.depth(parent.dept_id) + 1 > MAX_DEPTH) return undefined;
    const name = this.freeName(parent.dept_id, nameRef, undefined);
    if (name === undefined) return undefined;
    const dept = this.dt.addDept({ name, parent_id: parent.dept_id }, { push: false });
    return { text: `add department ${dept.dept_id} "${name}" under ${parent.dept_id}`, events: [{ eventType: 'org_dept_create', deptIds: [dept.dept_id] }] };
  }

  private renameDept(deptRef: Ref, nameRef: Ref): AppliedChange | undefined {
    const dept = pick(this.depts(false), deptRef);
    if (!dept) return undefined;
    const name = this.freeName(dept.parent_id!, nameRef, dept.dept_id);
    if (name === undefined || name === dept.name) return undefined;
    this.dt.updateDept(dept.dept_id, { name }, { push: false });
    return { text: `rename department ${dept.dept_id} "${dept.name}" → "${name}"`, events: [{ eventType: 'org_dept_modify', deptIds: [dept.dept_id] }] };
  }

  private moveDept(deptRef: Ref, parentRef: Ref): AppliedChange | undefined {
    const dept = pick(this.depts(false), deptRef);
    if (!dept) return undefined;
    const subtree = new Set(this.subtree(dept.dept_id));
    const parent = pick(
      this.depts().filter((d) => !subtree.has(d.dept_id)),
      parentRef,
    )!;
    if (parent.dept_id === dept.parent_id) return undefined;
    if (this.siblings(parent.dept_id).some((s) => s.name === dept.name)) return undefined;
    if (this.depth(parent.dept_id) + this.height(dept.dept_id) > MAX_DEPTH) return undefined;
    this.dt.updateDept(dept.dept_id, { parent_id: parent.dept_id }, { push: false });
    return {
      text: `move department ${dept.dept_id} from ${dept.parent_id} to ${parent.dept_id}`,
      events: [{ eventType: 'org_dept_modify', deptIds: [dept.dept_id] }],
    };
  }

  private removeDept(deptRef: Ref, toRef: Ref): AppliedChange | undefined {
    const dept = pick(this.depts(false), deptRef);
    if (!dept) return undefined;
    const ids = this.subtree(dept.dept_id);
    const gone = new Set(ids);
    const to = pick(
      this.depts().filter((d) => !gone.has(d.dept_id)),
      toRef,
    )!.dept_id;
    const lines: string[] = [];
    const events: OrgEvent[] = [];
    for (const user of this.people()) {
      if (!user.dept_id_list.some((d) => gone.has(d))) continue;
      const kept = user.dept_id_list.filter((d) => !gone.has(d));
      const next = kept.length > 0 ? kept : [to];
      this.dt.updateUser(user.userid, { dept_id_list: next }, { push: false });
      lines.push(`move ${user.userid} [${user.dept_id_list}] → [${next}]`);
      events.push({ eventType: 'user_modify_org', userIds: [user.userid] });
    }
    const removed = this.dt.removeDept(dept.dept_id, { push: false });
    lines.push(`remove department ${dept.dept_id} (with ${removed.length - 1} below it)`);
    events.push({ eventType: 'org_dept_remove', deptIds: removed });
    return { text: lines.join('; '), events };
  }

  // -------------------------------------------------------------------------------------------
  // People

  private addPerson(c: Extract<Change, { op: 'addPerson' }>): AppliedChange {
    const depts = this.deptList(c.depts);
    const manager = c.manager === null ? undefined : pick(this.people(), c.manager)?.userid;
    const person = { ...this.newPerson(depts, c.leader), manager_userid: manager };
    const reused = c.reuseMobile === null ? undefined : pick(this.freeFormerMobiles(), c.reuseMobile);
    if (reused !== undefined) person.mobile = reused;
    this.dt.addUser(person, { push: false });
    const extra = `${manager ? `, manager ${manager}` : ''}, mobile ${person.mobile}${reused ? " (a leaver's)" : ''}`;
    return { text: `add ${person.userid} in [${depts}]${c.leader ? ' (leader)' : ''}${extra}`, events: [userEvent('user_add_org', person.userid)] };
  }

  private editPerson(c: Extract<Change, { op: 'editPerson' }>): AppliedChange | undefined {
    const user = pick(this.people(), c.person);
    if (!user) return undefined;
    const patch: Partial<DingTalkUser> = {};
    const said: string[] = [];
    if (c.rename) {
      patch.name = `${user.name.split('#')[0]}#${this.nextPerson++}`;
      said.push(`name "${patch.name}"`);
    }
    if (c.title !== undefined) {
      patch.title = c.title === null ? undefined : TITLES[c.title % TITLES.length];
      said.push(`title ${patch.title ?? 'cleared'}`);
    }
    if (c.newMobile) {
      patch.mobile = this.freshMobile();
      said.push(`mobile ${patch.mobile}`);
    }
    if (c.manager !== undefined) {
      const others = this.people().filter((p) => p.userid !== user.userid);
      patch.manager_userid = c.manager === null ? undefined : pick(others, c.manager)?.userid;
      said.push(`manager ${patch.manager_userid ?? 'cleared'}`);
    }
    this.dt.updateUser(user.userid, patch, { push: false });
    return { text: `edit ${user.userid}: ${said.join(', ') || 'nothing'}`, events: [userEvent('user_modify_org', user.userid)] };
  }

  private movePerson(personRef: Ref, deptRefs: Ref[], leader: boolean): AppliedChange | undefined {
    const user = pick(this.people(), personRef);
    if (!user) return undefined;
    const depts = this.deptList(deptRefs);
    this.dt.updateUser(
      user.userid,
      { dept_id_list: depts, leader_in_dept: depts.map((dept_id, i) => ({ dept_id, leader: leader && i === 0 })) },
      { push: false },
    );
    return { text: `move ${user.userid} [${user.dept_id_list}] → [${depts}]${leader ? ' (leader)' : ''}`, events: [userEvent('user_modify_org', user.userid)] };
  }

  private leave(personRef: Ref): AppliedChange | undefined {
    const user = pick(this.people(), personRef);
    if (!user) return undefined;
    this.dt.removeUser(user.userid, { push: false });
    this.formers.set(user.userid, user);
    return { text: `${user.userid} leaves`, events: [userEvent('user_leave_org', user.userid)] };
  }

  private rejoin(formerRef: Ref, deptRefs: Ref[]): AppliedChange | undefined {
    const userid = pick(this.formerIds(), formerRef);
    if (userid === undefined) return undefined;
    const before = this.formers.get(userid)!;
    this.formers.delete(userid);
    const depts = this.deptList(deptRefs);
    const taken = before.mobile !== undefined && this.people().some((p) => p.mobile === before.mobile);
    const mobile = taken ? this.freshMobile() : before.mobile;
    this.dt.addUser({ userid, name: before.name, mobile, state_code: '86', email: before.email, title: before.title, dept_id_list: depts }, { push: false });
    return { text: `${userid} comes back in [${depts}]${taken ? `, new mobile ${mobile}` : ''}`, events: [userEvent('user_add_org', userid)] };
  }

  // -------------------------------------------------------------------------------------------

  private newPerson(depts: number[], leader: boolean) {
    const n = this.nextPerson++;
    const userid = `p${String(n).padStart(3, '0')}`;
    return {
      userid,
      name: PERSON_NAMES[n % PERSON_NAMES.length]!,
      mobile: this.freshMobile(),
      state_code: '86',
      email: n % 3 === 0 ? `${userid}@example.com` : undefined,
      title: TITLES[n % TITLES.length],
      dept_id_list: depts,
      leader_in_dept: depts.map((dept_id, i) => ({ dept_id, leader: leader && i === 0 })),
    };
  }

  private freshMobile(): string {
    return `139${String(this.nextMobile++).padStart(8, '0')}`;
  }

  /** Mobiles of leavers that no one in the company holds now: a new hire may get one. */
  private freeFormerMobiles(): string[] {
    const held = new Set(this.people().map((p) => p.mobile));
    return [...this.formers.values()].map((f) => f.mobile!).filter((m) => m !== undefined && !held.has(m));
  }

  /** One or two distinct departments (the root included). */
  private deptList(refs: Ref[]): number[] {
    const all = this.depts();
    return [...new Set(refs.slice(0, 2).map((r) => pick(all, r)!.dept_id))];
  }

  private depts(withRoot = true): DingTalkDept[] {
    return this.dt
      .listDepts()
      .filter((d) => withRoot || d.dept_id !== DINGTALK_ROOT_DEPT_ID)
      .sort((a, b) => a.dept_id - b.dept_id);
  }

  private people(): DingTalkUser[] {
    return this.dt.listUsers().sort((a, b) => (a.userid < b.userid ? -1 : 1));
  }

  private siblings(parentId: number): DingTalkDept[] {
    return this.depts().filter((d) => d.parent_id === parentId);
  }

  /** A name from the pool no other child of `parentId` has, starting at `ref`. */
  private freeName(parentId: number, ref: Ref, self: number | undefined): string | undefined {
    const taken = new Set(
      this.siblings(parentId)
        .filter((d) => d.dept_id !== self)
        .map((d) => d.name),
    );
    for (let i = 0; i < DEPT_NAMES.length; i++) {
      const name = DEPT_NAMES[(ref + i) % DEPT_NAMES.length]!;
      if (!taken.has(name)) return name;
    }
    return undefined;
  }

  private subtree(deptId: number): number[] {
    const all = this.depts();
    const out = [deptId];
    for (let i = 0; i < out.length; i++) out.push(...all.filter((d) => d.parent_id === out[i]).map((d) => d.dept_id));
    return out;
  }

  /** Levels from the root (1) down to the department. */
  private depth(deptId: number): number {
    let depth = 1;
    for (let d = this.dt.getDept(deptId); d?.parent_id !== undefined; d = this.dt.getDept(d.parent_id)) depth++;
    return depth;
  }

  /** Levels of the subtree under and including the department. */
  private height(deptId: number): number {
    const children = this.depts().filter((d) => d.parent_id === deptId);
    return 1 + Math.max(0, ...children.map((c) => this.height(c.dept_id)));
  }
}

function userEvent(eventType: string, userid: string): OrgEvent {
  return { eventType, userIds: [userid] };
}
