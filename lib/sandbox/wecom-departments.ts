/**
 * The WeCom simulator's department tree, with the rules WeCom enforces that need the whole tree:
 * ids exist and are unique, sibling names are unique, at most 15 levels, no cycles, and only
 * empty departments may be deleted. Field formats come from wecom-rules.ts. Every refusal is a
 * SimError with WeCom's errcode, so the API and the hand-edit helpers answer alike.
 */
import { WECOM_ROOT_DEPT_ID } from '../sync/mapping';
import { WECOM_ERR } from '../wecom/errors';
import { objectBody, SimError } from './http';
import { deptNameViolation, enforce, MAX_DEPT_DEPTH, newDeptIdViolation, orderViolation, WECOM_ERRMSG } from './wecom-rules';

/** A department as WeCom stores it. */
export interface WeComSimDept {
  id: number;
  name: string;
  name_en?: string;
  /** 0 for the root. */
  parentid: number;
  order: number;
}

/** What WeCom gives as the root's `parentid`: it has none. */
const NO_PARENT = 0;

export class WeComDepartments {
  private readonly depts = new Map<number, WeComSimDept>();
  private readonly children = new Map<number, Set<number>>();
  private highestDeptId = WECOM_ROOT_DEPT_ID;

  constructor(
    rootName: string,
    /** Whether any member belongs to the department directly: such a department cannot go. */
    private readonly hasMembers: (deptId: number) => boolean,
  ) {
    this.depts.set(WECOM_ROOT_DEPT_ID, { id: WECOM_ROOT_DEPT_ID, name: rootName, parentid: NO_PARENT, order: 0 });
    this.children.set(WECOM_ROOT_DEPT_ID, new Set());
  }

  /** Whether the department exists. */
  has(id: number): boolean {
    return this.depts.has(id);
  }

  /** `department/create`: returns the new id, the requested one or the next free one. */
  create(raw: unknown): number {
    const body = objectBody(raw);
    enforce(deptNameViolation(body.name));
    const name = body.name as string;
    const parentid = this.existingParent(body.parentid);
    let id: number;
    if (body.id !== undefined) {
      enforce(newDeptIdViolation(body.id));
      id = body.id as number;
      if (this.depts.has(id)) throw new SimError(WECOM_ERR.deptExists, `${WECOM_ERRMSG[WECOM_ERR.deptExists]}: id ${id}`);
    } else {
      id = this.freeDeptId();
    }
    this.checkSiblingName(parentid, name, undefined);
    if (this.depth(parentid) + 1 > MAX_DEPT_DEPTH) throw new SimError(WECOM_ERR.tooDeep);
    if (body.order !== undefined) enforce(orderViolation(body.order));
    const dept: WeComSimDept = { id, name, parentid, order: (body.order as number | undefined) ?? 0 };
    if (typeof body.name_en === 'string') dept.name_en = body.name_en;
    this.depts.set(id, dept);
    this.highestDeptId = Math.max(this.highestDeptId, id);
    this.children.set(id, new Set());
    this.children.get(parentid)!.add(id);
    return id;
  }

  /** `department/update`: only the fields sent change; a new `parentid` moves the whole subtree. */
  update(raw: unknown): void {
    const body = objectBody(raw);
    const dept = this.existingDept(body.id);
    if (body.name !== undefined) enforce(deptNameViolation(body.name));
    if (body.order !== undefined) enforce(orderViolation(body.order));
    const name = (body.name as string | undefined) ?? dept.name;
    let parentid = dept.parentid;
    if (body.parentid !== undefined && body.parentid !== dept.parentid) {
      if (dept.id === WECOM_ROOT_DEPT_ID) throw new SimError(WECOM_ERR.rootDept);
      parentid = this.existingParent(body.parentid);
      const below = this.subtree(dept.id);
      if (below.includes(parentid)) throw new SimError(WECOM_ERR.deptCircular);
      if (this.depth(parentid) + this.height(dept.id) > MAX_DEPT_DEPTH) throw new SimError(WECOM_ERR.tooDeep);
    }
    if (name !== dept.name || parentid !== dept.parentid) this.checkSiblingName(parentid, name, dept.id);
    if (parentid !== dept.parentid) {
      this.children.get(dept.parentid)!.delete(dept.id);
      this.children.get(parentid)!.add(dept.id);
      dept.parentid = parentid;
    }
    dept.name = name;
    if (body.order !== undefined) dept.order = body.order as number;
    if (typeof body.name_en === 'string') dept.name_en = body.name_en;
  }

  /** `department/delete`: only an empty department other than the root. */
  delete(id: number): void {
    const dept = this.depts.get(id);
    if (!dept) throw new SimError(WECOM_ERR.deptNotFound);
    if (id === WECOM_ROOT_DEPT_ID) throw new SimError(WECOM_ERR.rootDept);
    if (this.children.get(id)!.size > 0) throw new SimError(WECOM_ERR.deptHasChildren);
    if (this.hasMembers(id)) throw new SimError(WECOM_ERR.deptHasMembers);
    this.children.get(dept.parentid)!.delete(id);
    this.depts.delete(id);
    this.children.delete(id);
  }

  /** `department/simplelist`: the department and everything below it, parents first. */
  simpleList(root: number): { id: number; parentid: number; order: number }[] {
    if (!this.depts.has(root)) throw new SimError(WECOM_ERR.deptNotFound);
    return this.subtree(root).map((id) => {
      const { parentid, order } = this.depts.get(id)!;
      return { id, parentid, order };
    });
  }

  /** A copy of the stored department, or undefined. */
  get(id: number): WeComSimDept | undefined {
    const dept = this.depts.get(id);
    return dept && { ...dept };
  }

  /** Copies of every department, parents before children. */
  list(): WeComSimDept[] {
    return this.subtree(WECOM_ROOT_DEPT_ID).map((id) => ({ ...this.depts.get(id)! }));
  }

  private existingDept(id: unknown): WeComSimDept {
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new SimError(WECOM_ERR.invalidDeptId);
    const dept = this.depts.get(id);
    if (!dept) throw new SimError(WECOM_ERR.deptNotFound);
    return dept;
  }

  private existingParent(parentid: unknown): number {
    if (typeof parentid !== 'number' || !Number.isInteger(parentid) || parentid < WECOM_ROOT_DEPT_ID) throw new SimError(WECOM_ERR.invalidParentId);
    if (!this.depts.has(parentid)) throw new SimError(WECOM_ERR.parentNotFound);
    return parentid;
  }

  private checkSiblingName(parentid: number, name: string, self: number | undefined): void {
    for (const sibling of this.children.get(parentid)!) {
      if (sibling !== self && this.depts.get(sibling)!.name === name) {
        throw new SimError(WECOM_ERR.deptExists, `${WECOM_ERRMSG[WECOM_ERR.deptExists]}: a sibling is already named ${name}`);
      }
    }
  }

  /** Level of a department, the root being 1. */
  private depth(id: number): number {
    let depth = 1;
    for (let d = this.depts.get(id)!; d.parentid !== NO_PARENT; d = this.depts.get(d.parentid)!) depth++;
    return depth;
  }

  /** Levels in a subtree, the department itself counting 1. */
  private height(id: number): number {
    let tallest = 0;
    for (const child of this.children.get(id)!) tallest = Math.max(tallest, this.height(child));
    return tallest + 1;
  }

  /** The department and everything below it, parents first. */
  private subtree(id: number): number[] {
    const out = [id];
    for (let i = 0; i < out.length; i++) out.push(...this.children.get(out[i]!)!);
    return out;
  }

  /** WeCom hands out the next id above the highest one ever used. */
  private freeDeptId(): number {
    return this.highestDeptId + 1;
  }
}
