/**
 * The DingTalk simulator's organisation: departments, users, who is a member where (in joining
 * order, which is what `user/list` pages through) and what lies outside the app's visible scope.
 * Pure state and queries: it neither answers HTTP nor pushes events; misuse throws a plain Error,
 * since only tests and seeds change it, never API clients.
 */
import type { DingTalkDept, DingTalkUser } from '../ports';
import { DINGTALK_ROOT_DEPT_ID } from '../sync/mapping';
import { checkName, type DeptInput, normalizeUser, type OrderInput, toOrder, type UserInput } from './dingtalk-org-input';
import { SequencedSet } from './sequenced-set';

export class DingTalkOrg {
  private readonly depts = new Map<number, DingTalkDept>();
  private readonly children = new Map<number, Set<number>>();
  private readonly users = new Map<string, DingTalkUser>();
  /** Direct members per department, in the order they joined: what `user/list` pages through. */
  private readonly members = new Map<number, SequencedSet<string>>();
  private readonly usersOutOfScope = new Set<string>();
  private readonly deptsOutOfScope = new Set<number>();
  private nextDeptId = 1000;
  private nextUserNo = 1;
  private nextOrder = 1;

  constructor(rootName: string) {
    this.insertDept({ dept_id: DINGTALK_ROOT_DEPT_ID, name: rootName, order: '0' });
  }

  /**
   * Loads departments and users. Departments may come in any order (parents are checked once all
   * are in); a department with the root's id renames the root.
   */
  seed(org: { depts?: readonly DeptInput[]; users?: readonly UserInput[] }): void {
    const added: number[] = [];
    for (const input of org.depts ?? []) {
      if (input.dept_id === undefined) throw new Error('seed: every department needs a dept_id');
      if (input.dept_id === DINGTALK_ROOT_DEPT_ID) {
        this.depts.get(DINGTALK_ROOT_DEPT_ID)!.name = checkName(input.name);
        continue;
      }
      if (this.depts.has(input.dept_id)) throw new Error(`seed: department ${input.dept_id} already exists`);
      this.insertDept({ dept_id: input.dept_id, name: checkName(input.name), parent_id: input.parent_id, order: toOrder(input.order ?? 0) });
      added.push(input.dept_id);
    }
    // Link children only now, so input order does not matter; then refuse cycles and orphans.
    for (const id of added) {
      const parent = this.depts.get(id)!.parent_id;
      if (parent === undefined || !this.depts.has(parent)) throw new Error(`seed: department ${id} has no existing parent (${parent})`);
      this.children.get(parent)!.add(id);
    }
    for (const id of added) this.depthOf(id);
    for (const input of org.users ?? []) this.insertUser(input);
  }

  // -------------------------------------------------------------------------------------------
  // Changes (each returns copies, so callers cannot alter the organisation behind its back)

  /** A new department under an existing parent; without `dept_id`, the next free id from 1000. */
  addDept(input: DeptInput): DingTalkDept {
    const id = input.dept_id ?? this.freeDeptId();
    if (this.depts.has(id)) throw new Error(`department ${id} already exists`);
    if (input.parent_id === undefined || !this.depts.has(input.parent_id)) throw new Error(`parent department ${input.parent_id} does not exist`);
    this.insertDept({ dept_id: id, name: checkName(input.name), parent_id: input.parent_id, order: toOrder(input.order ?? 0) });
    this.children.get(input.parent_id)!.add(id);
    return { ...this.depts.get(id)! };
  }

  /** Renames, reorders or moves (`parent_id`) a department. */
  updateDept(deptId: number, patch: { name?: string; parent_id?: number; order?: OrderInput }): DingTalkDept {
    const dept = this.requireDept(deptId);
    if (patch.parent_id !== undefined && patch.parent_id !== dept.parent_id) {
      if (deptId === DINGTALK_ROOT_DEPT_ID) throw new Error('the root department cannot move');
      if (!this.depts.has(patch.parent_id)) throw new Error(`parent department ${patch.parent_id} does not exist`);
      if (this.subtree(deptId).includes(patch.parent_id)) throw new Error(`moving ${deptId} under ${patch.parent_id} would make a cycle`);
      this.children.get(dept.parent_id!)!.delete(deptId);
      this.children.get(patch.parent_id)!.add(deptId);
      dept.parent_id = patch.parent_id;
    }
    if (patch.name !== undefined) dept.name = checkName(patch.name);
    if (patch.order !== undefined) dept.order = toOrder(patch.order);
    return { ...dept };
  }

  /**
   * Deletes a department and everything below it and returns their ids, parents first. Refuses
   * while any of them has members, as DingTalk's console does.
   */
  removeDept(deptId: number): number[] {
    const dept = this.requireDept(deptId);
    if (deptId === DINGTALK_ROOT_DEPT_ID) throw new Error('the root department cannot be removed');
    const ids = this.subtree(deptId);
    const occupied = ids.find((id) => this.members.get(id)!.size > 0);
    if (occupied !== undefined) throw new Error(`department ${occupied} still has members`);
    this.children.get(dept.parent_id!)!.delete(deptId);
    for (const id of ids) {
      this.depts.delete(id);
      this.children.delete(id);
      this.members.delete(id);
      this.deptsOutOfScope.delete(id);
    }
    return ids;
  }

  /** A new user; without `userid`, the next free `sandbox000001`-style id. */
  addUser(input: UserInput): DingTalkUser {
    return structuredClone(this.insertUser(input));
  }

  /**
   * Changes a user; a field set to undefined is cleared. A new `dept_id_list` moves the user:
   * orders and leader flags are kept for the departments that remain.
   */
  updateUser(userid: string, patch: Partial<Omit<UserInput, 'userid'>>): DingTalkUser {
    const old = this.requireUser(userid);
    const next = normalizeUser(
      { ...old, ...patch, userid },
      (id) => this.depts.has(id),
      () => this.defaultOrder(),
    );
    for (const deptId of old.dept_id_list) if (!next.dept_id_list.includes(deptId)) this.members.get(deptId)!.delete(userid);
    for (const deptId of next.dept_id_list) this.members.get(deptId)!.add(userid);
    this.users.set(userid, next);
    return structuredClone(next);
  }

  /** The user leaves the company. */
  removeUser(userid: string): void {
    const user = this.requireUser(userid);
    for (const deptId of user.dept_id_list) this.members.get(deptId)!.delete(userid);
    this.users.delete(userid);
    this.usersOutOfScope.delete(userid);
  }

  /** Takes a user out of (or back into) the app's visible scope. */
  setUserOutOfScope(userid: string, outOfScope: boolean): void {
    this.requireUser(userid);
    if (outOfScope) this.usersOutOfScope.add(userid);
    else this.usersOutOfScope.delete(userid);
  }

  /** Takes a department out of (or back into) the app's visible scope. */
  setDeptOutOfScope(deptId: number, outOfScope: boolean): void {
    this.requireDept(deptId);
    if (outOfScope) this.deptsOutOfScope.add(deptId);
    else this.deptsOutOfScope.delete(deptId);
  }

  // -------------------------------------------------------------------------------------------
  // Inspection for tests: copies

  /** A copy of the stored user, or undefined. */
  getUser(userid: string): DingTalkUser | undefined {
    const user = this.users.get(userid);
    return user && structuredClone(user);
  }

  /** A copy of the stored department, or undefined. */
  getDept(deptId: number): DingTalkDept | undefined {
    const dept = this.depts.get(deptId);
    return dept && { ...dept };
  }

  /** Copies of every user, in the order they were added. */
  listUsers(): DingTalkUser[] {
    return [...this.users.values()].map((u) => structuredClone(u));
  }

  /** Copies of every department, the root first, then in the order they were added. */
  listDepts(): DingTalkDept[] {
    return [...this.depts.values()].map((d) => ({ ...d }));
  }

  // -------------------------------------------------------------------------------------------
  // Queries for the read API: the stored records themselves, which callers must not change
  // (no copies, so paging through 10,000 users stays cheap)

  /** The stored user, in scope or not, or undefined. */
  findUser(userid: string): Readonly<DingTalkUser> | undefined {
    return this.users.get(userid);
  }

  /** The stored department, in scope or not, or undefined. */
  findDept(deptId: number): Readonly<DingTalkDept> | undefined {
    return this.depts.get(deptId);
  }

  /** True when reads of the user answer "out of scope" and lists skip it. */
  isUserOutOfScope(userid: string): boolean {
    return this.usersOutOfScope.has(userid);
  }

  /** True when reads of the department answer "out of scope" and `listsub` skips it. */
  isDeptOutOfScope(deptId: number): boolean {
    return this.deptsOutOfScope.has(deptId);
  }

  /** Direct sub-departments inside the visible scope. */
  visibleChildren(deptId: number): Readonly<DingTalkDept>[] {
    return [...this.children.get(deptId)!].filter((id) => !this.deptsOutOfScope.has(id)).map((id) => this.depts.get(id)!);
  }

  /** Direct members flagged as leaders of the department. */
  managers(deptId: number): string[] {
    return [...this.members.get(deptId)!.values()].filter((userid) => this.users.get(userid)?.leader_in_dept?.some((l) => l.dept_id === deptId && l.leader));
  }

  /**
   * Visible direct members whose join sequence is at least `fromSeq`, in joining order. A cursor
   * made of a sequence, unlike an offset, shifts nobody when members leave between pages.
   */
  *visibleMembers(deptId: number, fromSeq: number): Generator<{ seq: number; user: Readonly<DingTalkUser> }> {
    for (const { seq, key } of this.members.get(deptId)!.from(fromSeq)) {
      const user = this.users.get(key);
      if (user && !this.usersOutOfScope.has(key)) yield { seq, user };
    }
  }

  /** Userids of the visible direct members, in joining order. */
  visibleMemberIds(deptId: number): string[] {
    return [...this.members.get(deptId)!.values()].filter((id) => !this.usersOutOfScope.has(id));
  }

  // -------------------------------------------------------------------------------------------

  private insertDept(dept: DingTalkDept): void {
    this.depts.set(dept.dept_id, dept);
    this.children.set(dept.dept_id, new Set());
    this.members.set(dept.dept_id, new SequencedSet());
    if (dept.dept_id >= this.nextDeptId) this.nextDeptId = dept.dept_id + 1;
  }

  private insertUser(input: UserInput): DingTalkUser {
    const userid = input.userid ?? this.freeUserid();
    if (this.users.has(userid)) throw new Error(`user ${userid} already exists`);
    const user = normalizeUser(
      { ...input, userid },
      (id) => this.depts.has(id),
      () => this.defaultOrder(),
    );
    this.users.set(userid, user);
    for (const deptId of user.dept_id_list) this.members.get(deptId)!.add(userid);
    return user;
  }

  private requireDept(deptId: number): DingTalkDept {
    const dept = this.depts.get(deptId);
    if (!dept) throw new Error(`department ${deptId} does not exist`);
    return dept;
  }

  private requireUser(userid: string): DingTalkUser {
    const user = this.users.get(userid);
    if (!user) throw new Error(`user ${userid} does not exist`);
    return user;
  }

  /** The department and all its descendants, parents first. */
  private subtree(deptId: number): number[] {
    const out = [deptId];
    for (let i = 0; i < out.length; i++) out.push(...this.children.get(out[i]!)!);
    return out;
  }

  /** Depth of a department (root 1); throws on a cycle, which only a bad seed can create. */
  private depthOf(deptId: number): number {
    let depth = 1;
    for (let id = deptId; id !== DINGTALK_ROOT_DEPT_ID; depth++) {
      id = this.depts.get(id)!.parent_id!;
      if (depth > this.depts.size) throw new Error(`seed: department ${deptId} is part of a cycle`);
    }
    return depth;
  }

  private freeDeptId(): number {
    while (this.depts.has(this.nextDeptId)) this.nextDeptId++;
    return this.nextDeptId++;
  }

  private freeUserid(): string {
    let id: string;
    do id = `sandbox${String(this.nextUserNo++).padStart(6, '0')}`;
    while (this.users.has(id));
    return id;
  }

  private defaultOrder(): string {
    return String(this.nextOrder++);
  }
}
