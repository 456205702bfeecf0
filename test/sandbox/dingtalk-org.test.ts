/**
 * The DingTalk simulator's organisation model on its own (lib/sandbox/dingtalk-org.ts): seeding,
 * the changes HR actions make, and the queries the read API answers from. No HTTP, no pushes.
 */
import { describe, expect, it } from 'vitest';
import { DingTalkOrg } from '../../lib/sandbox/dingtalk-org';

const BIG_ORDER = '176543210987654321'; // > 2^53

function org(): DingTalkOrg {
  const o = new DingTalkOrg('公司');
  o.seed({
    depts: [
      { dept_id: 10, name: '甲', parent_id: 1 },
      { dept_id: 11, name: '甲一', parent_id: 10 },
      { dept_id: 20, name: '乙', parent_id: 1 },
    ],
  });
  return o;
}

const ids = (it: Iterable<{ user: { userid: string } }>) => [...it].map((m) => m.user.userid);

describe('seeding links departments in any order and refuses what no organisation has', () => {
  it('links children to parents seeded later, and renames the root', () => {
    const o = new DingTalkOrg('公司');
    o.seed({
      depts: [
        { dept_id: 1, name: '新公司' },
        { dept_id: 11, name: '孙', parent_id: 10 },
        { dept_id: 10, name: '子', parent_id: 1 },
      ],
    });
    expect(o.getDept(1)).toMatchObject({ name: '新公司', order: '0' });
    expect(o.getDept(11)?.parent_id).toBe(10);
    expect(o.visibleChildren(10).map((d) => d.dept_id)).toEqual([11]);
  });

  it('refuses a department without id, a taken id, an orphan and a cycle', () => {
    const o = org();
    expect(() => o.seed({ depts: [{ name: '无', parent_id: 1 }] })).toThrow(/needs a dept_id/);
    expect(() => o.seed({ depts: [{ dept_id: 10, name: '重', parent_id: 1 }] })).toThrow(/already exists/);
    expect(() => o.seed({ depts: [{ dept_id: 30, name: '孤', parent_id: 404 }] })).toThrow(/no existing parent/);
    expect(() =>
      o.seed({
        depts: [
          { dept_id: 40, name: '环一', parent_id: 41 },
          { dept_id: 41, name: '环二', parent_id: 40 },
        ],
      }),
    ).toThrow(/cycle/);
  });
});

describe('department changes keep the tree whole', () => {
  it('assigns free ids from 1000 up and needs an existing parent', () => {
    const o = org();
    expect(o.addDept({ name: '新', parent_id: 1 })).toEqual({ dept_id: 1000, name: '新', parent_id: 1, order: '0' });
    expect(o.addDept({ dept_id: 1001, name: '占', parent_id: 1 }).dept_id).toBe(1001);
    expect(o.addDept({ name: '又', parent_id: 1, order: 3n }).dept_id).toBe(1002);
    expect(() => o.addDept({ name: '孤', parent_id: 404 })).toThrow(/parent department 404/);
    expect(() => o.addDept({ dept_id: 10, name: '重', parent_id: 1 })).toThrow(/already exists/);
  });

  it('moves a department with its subtree, but never below itself and never the root', () => {
    const o = org();
    expect(o.updateDept(10, { parent_id: 20, name: '甲改', order: BIG_ORDER })).toMatchObject({ parent_id: 20, name: '甲改', order: BIG_ORDER });
    expect(o.visibleChildren(20).map((d) => d.dept_id)).toEqual([10]);
    expect(o.visibleChildren(1).map((d) => d.dept_id)).toEqual([20]);
    expect(() => o.updateDept(20, { parent_id: 11 })).toThrow(/cycle/);
    expect(() => o.updateDept(1, { parent_id: 20 })).toThrow(/root/);
    expect(() => o.updateDept(404, { name: 'x' })).toThrow(/does not exist/);
  });

  it('removes a whole subtree, parents first, but only once nobody is a member of it', () => {
    const o = org();
    o.addUser({ userid: 'u', name: '员', dept_id_list: [11] });
    expect(() => o.removeDept(10)).toThrow(/department 11 still has members/);
    expect(() => o.removeDept(1)).toThrow(/root/);
    o.removeUser('u');
    expect(o.removeDept(10)).toEqual([10, 11]);
    expect(o.getDept(11)).toBeUndefined();
    expect(o.listDepts().map((d) => d.dept_id)).toEqual([1, 20]);
  });
});

describe('users get one order and leader flag per department, and keep them when they move', () => {
  it('assigns userids and ascending default orders', () => {
    const o = org();
    const a = o.addUser({ name: '甲', dept_id_list: [10, 20] });
    const b = o.addUser({ name: '乙', dept_id_list: [10] });
    expect([a.userid, b.userid]).toEqual(['sandbox000001', 'sandbox000002']);
    expect(a.dept_order_list).toEqual([
      { dept_id: 10, order: '1' },
      { dept_id: 20, order: '2' },
    ]);
    expect(b.dept_order_list).toEqual([{ dept_id: 10, order: '3' }]);
    expect(() => o.addUser({ userid: a.userid, name: '重', dept_id_list: [10] })).toThrow(/already exists/);
  });

  it('a move keeps the order and leader flag of each department that remains', () => {
    const o = org();
    o.addUser({
      userid: 'm',
      name: '动',
      dept_id_list: [10, 20],
      dept_order_list: [{ dept_id: 20, order: BIG_ORDER }],
      leader_in_dept: [{ dept_id: 20, leader: true }],
    });
    const moved = o.updateUser('m', { dept_id_list: [20, 1] });
    expect(moved.dept_order_list?.[0]).toEqual({ dept_id: 20, order: BIG_ORDER });
    expect(moved.leader_in_dept).toEqual([
      { dept_id: 20, leader: true },
      { dept_id: 1, leader: false },
    ]);
    expect(o.visibleMemberIds(10)).toEqual([]);
    expect(o.visibleMemberIds(1)).toEqual(['m']);
    expect(o.managers(20)).toEqual(['m']);
  });

  it('a removed user is gone from every query', () => {
    const o = org();
    o.addUser({ userid: 'x', name: '去', dept_id_list: [10] });
    o.removeUser('x');
    expect(o.findUser('x')).toBeUndefined();
    expect(o.visibleMemberIds(10)).toEqual([]);
    expect(() => o.removeUser('x')).toThrow(/does not exist/);
    expect(() => o.updateUser('x', { name: 'y' })).toThrow(/does not exist/);
  });
});

describe('the read queries hide what is out of scope and page by joining order', () => {
  it('skips out-of-scope users and departments until they are back in scope', () => {
    const o = org();
    for (const userid of ['a', 'b', 'c']) o.addUser({ userid, name: userid, dept_id_list: [10] });
    o.setUserOutOfScope('b', true);
    o.setDeptOutOfScope(20, true);
    expect(ids(o.visibleMembers(10, 0))).toEqual(['a', 'c']);
    expect(o.visibleMemberIds(10)).toEqual(['a', 'c']);
    expect(o.isUserOutOfScope('b') && o.isDeptOutOfScope(20)).toBe(true);
    expect(o.findUser('b')?.name).toBe('b'); // still there, only hidden
    expect(o.visibleChildren(1).map((d) => d.dept_id)).toEqual([10]);
    o.setUserOutOfScope('b', false);
    o.setDeptOutOfScope(20, false);
    expect(o.visibleMemberIds(10)).toEqual(['a', 'b', 'c']);
    expect(o.visibleChildren(1).map((d) => d.dept_id)).toEqual([10, 20]);
  });

  it('a join sequence, unlike an offset, still points at the same member after others leave', () => {
    const o = org();
    for (const userid of ['a', 'b', 'c', 'd']) o.addUser({ userid, name: userid, dept_id_list: [10] });
    const c = [...o.visibleMembers(10, 0)][2]!;
    o.removeUser('a');
    o.removeUser('b');
    expect(ids(o.visibleMembers(10, c.seq))).toEqual(['c', 'd']);
  });
});

describe('inspection hands out copies', () => {
  it('changing what getUser, getDept or the lists return changes nothing inside', () => {
    const o = org();
    o.addUser({ userid: 'u', name: '原', dept_id_list: [10] });
    o.getUser('u')!.name = '改';
    o.getDept(10)!.name = '改';
    o.listUsers()[0]!.dept_id_list.push(20);
    o.listDepts()[0]!.name = '改';
    expect(o.getUser('u')).toMatchObject({ name: '原', dept_id_list: [10] });
    expect(o.getDept(10)?.name).toBe('甲');
    expect(o.getDept(1)?.name).toBe('公司');
  });
});
