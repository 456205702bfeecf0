/**
 * The WeCom simulator's department tree on its own (lib/sandbox/wecom-departments.ts): names,
 * ids, parents, depth and moves, answered with WeCom's errcodes. The routes over it are tested
 * in wecom-sim.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { WeComDepartments } from '../../lib/sandbox/wecom-departments';
import { WECOM_ERR } from '../../lib/wecom/errors';
import { answer, code } from './support';

let depts: WeComDepartments;
/** Departments that have members, as the member roster would report them. */
let occupied: Set<number>;

beforeEach(() => {
  occupied = new Set();
  depts = new WeComDepartments('Company', (id) => occupied.has(id));
});

describe("department fields, parents and depth follow WeCom's rules", () => {
  it('name: 1-64 characters (60125), none of \\ : * ? " < > | (60009)', () => {
    expect(code(() => depts.create({ name: '', parentid: 1 }))).toBe(WECOM_ERR.badDeptName);
    expect(code(() => depts.create({ name: '部'.repeat(65), parentid: 1 }))).toBe(60125);
    expect(code(() => depts.create({ name: '部'.repeat(64), parentid: 1 }))).toBe(0);
    for (const c of ['\\', ':', '*', '?', '"', '<', '>', '|']) {
      expect(
        code(() => depts.create({ name: `a${c}b`, parentid: 1 })),
        c,
      ).toBe(WECOM_ERR.deptNameIllegalChars);
    }
  });

  it('unique among siblings (60008), but the same name may appear elsewhere', () => {
    depts.create({ name: '研发部', parentid: 1, id: 10 });
    expect(code(() => depts.create({ name: '研发部', parentid: 1 }))).toBe(WECOM_ERR.deptExists);
    expect(code(() => depts.create({ name: '研发部', parentid: 10 }))).toBe(0);
  });

  it('parent must exist (60004); a requested id must be >1, ≤2^32-1 (60123) and free (60008)', () => {
    expect(code(() => depts.create({ name: 'A', parentid: 99 }))).toBe(WECOM_ERR.parentNotFound);
    expect(code(() => depts.create({ name: 'A', parentid: 'x' }))).toBe(WECOM_ERR.invalidParentId);
    for (const id of [1, 0, -5, 2 ** 32, 2.5, '7']) {
      expect(
        code(() => depts.create({ name: 'A', parentid: 1, id })),
        String(id),
      ).toBe(WECOM_ERR.invalidDeptId);
    }
    expect(code(() => depts.create({ name: 'A', parentid: 1, id: 2 ** 32 - 1 }))).toBe(0);
    expect(code(() => depts.create({ name: 'B', parentid: 1, id: 2 ** 32 - 1 }))).toBe(WECOM_ERR.deptExists);
  });

  it('at most 15 levels (81002), on create and on a move', () => {
    let parent = 1;
    for (let level = 2; level <= 15; level++) {
      const a = answer(() => ({ id: depts.create({ name: `L${level}`, parentid: parent }) }));
      expect(a.errcode).toBe(0);
      parent = a.id as number;
    }
    expect(code(() => depts.create({ name: 'L16', parentid: parent }))).toBe(WECOM_ERR.tooDeep);
    const side = depts.create({ name: 'side', parentid: 1 });
    depts.create({ name: 'below', parentid: side });
    expect(code(() => depts.update({ id: side, parentid: parent - 1 }))).toBe(81002);
  });

  it('update changes only the fields sent; 60003 missing, 60010 circular, 60008 clash, 60004 parent missing', () => {
    depts.create({ name: 'A', parentid: 1, id: 10, order: 5 });
    depts.create({ name: 'B', parentid: 10, id: 11 });
    depts.create({ name: 'C', parentid: 1, id: 12 });
    expect(answer(() => depts.update({ id: 10, name: 'A2' }))).toMatchObject({ errcode: 0 });
    expect(depts.get(10)).toEqual({ id: 10, name: 'A2', parentid: 1, order: 5 });
    expect(code(() => depts.update({ id: 99, name: 'x' }))).toBe(WECOM_ERR.deptNotFound);
    expect(code(() => depts.update({ id: 10, parentid: 11 }))).toBe(WECOM_ERR.deptCircular);
    expect(code(() => depts.update({ id: 10, parentid: 10 }))).toBe(60010);
    expect(code(() => depts.update({ id: 12, name: 'A2' }))).toBe(WECOM_ERR.deptExists);
    expect(code(() => depts.update({ id: 12, parentid: 404 }))).toBe(WECOM_ERR.parentNotFound);
    expect(code(() => depts.update({ id: 12, parentid: 10 }))).toBe(0);
    expect(depts.get(12)?.parentid).toBe(10);
  });
});

describe('only an empty department other than the root can be deleted', () => {
  it('refuses a missing department (60003), one with children (60006) or members (60005), and the root (60007)', () => {
    depts.create({ name: 'A', parentid: 1, id: 10 });
    depts.create({ name: 'B', parentid: 10, id: 11 });
    occupied.add(11);
    expect(code(() => depts.delete(99))).toBe(WECOM_ERR.deptNotFound);
    expect(code(() => depts.delete(10))).toBe(WECOM_ERR.deptHasChildren);
    expect(code(() => depts.delete(11))).toBe(WECOM_ERR.deptHasMembers);
    expect(code(() => depts.delete(1))).toBe(WECOM_ERR.rootDept);
    occupied.delete(11);
    expect(code(() => depts.delete(11))).toBe(0);
    expect(code(() => depts.delete(10))).toBe(0);
    expect(depts.has(10)).toBe(false);
  });

  it('hands out the next id above the highest ever used, even after that one is deleted', () => {
    depts.create({ name: 'A', parentid: 1, id: 50 });
    depts.delete(50);
    expect(depts.create({ name: 'B', parentid: 1 })).toBe(51);
  });
});

describe('the tree is listed parents first, as copies', () => {
  it('simpleList gives a subtree with parent and order; list gives every department', () => {
    depts.create({ name: 'A', parentid: 1, id: 10, order: 3 });
    depts.create({ name: 'B', parentid: 10, id: 11 });
    depts.create({ name: 'C', parentid: 1, id: 12 });
    expect(depts.simpleList(10)).toEqual([
      { id: 10, parentid: 1, order: 3 },
      { id: 11, parentid: 10, order: 0 },
    ]);
    expect(code(() => depts.simpleList(99))).toBe(WECOM_ERR.deptNotFound);
    expect(depts.list().map((d) => d.id)).toEqual([1, 10, 12, 11]);
    depts.get(10)!.name = 'changed';
    depts.list()[0]!.name = 'changed';
    expect(depts.get(10)?.name).toBe('A');
    expect(depts.get(1)).toEqual({ id: 1, name: 'Company', parentid: 0, order: 0 });
  });
});
