/**
 * The WeCom simulator's members on its own (lib/sandbox/wecom-members.ts): every member rule it
 * enforces, answered with WeCom's errcodes, and the indexes behind uniqueness and paging. The
 * routes over it are tested in wecom-sim.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { WeComMembers } from '../../lib/sandbox/wecom-members';
import { WECOM_ERR } from '../../lib/wecom/errors';
import { answer, code } from './support';

let mobiles = 0;

/** A valid member payload with a mobile nobody else has; tests override one field at a time. */
function member(userid: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { userid, name: '张三', department: [1], mobile: `+86 139${String(++mobiles).padStart(8, '0')}`, to_invite: false, ...extra };
}

let members: WeComMembers;
/** The departments that exist, as the department tree would report them. */
let deptIds: Set<number>;

beforeEach(() => {
  deptIds = new Set([1, 2, 3]);
  members = new WeComMembers((id) => deptIds.has(id));
});

describe("member fields follow WeCom's rules, and uniqueness holds across spellings", () => {
  it('userid: [0-9A-Za-z_-@.], first a letter or digit, 1-64 bytes (40003); unique ignoring case (60102)', () => {
    for (const userid of ['', '_lead', '-x', 'has space', '张三', 'a'.repeat(65), 'a/b', 42]) {
      expect(
        code(() => members.create(member('x', { userid }))),
        String(userid),
      ).toBe(WECOM_ERR.invalidUserid);
    }
    expect(code(() => members.create(member('a'.repeat(64))))).toBe(0);
    expect(code(() => members.create(member('Ab-1_@.x')))).toBe(0);
    expect(code(() => members.create(member('AB-1_@.X', { mobile: '13900000000' })))).toBe(WECOM_ERR.useridExists);
  });

  it('name: 1-64 characters (60112)', () => {
    expect(code(() => members.create(member('n1', { name: '' })))).toBe(WECOM_ERR.badName);
    expect(code(() => members.create(member('n2', { name: '名'.repeat(65) })))).toBe(60112);
    expect(code(() => members.create(member('n3', { name: '名'.repeat(64) })))).toBe(0);
  });

  it('department: non-empty, existing (60123), at most 100 (60110)', () => {
    expect(code(() => members.create(member('d1', { department: [] })))).toBe(WECOM_ERR.invalidDeptId);
    expect(code(() => members.create(member('d2', { department: undefined })))).toBe(60123);
    expect(code(() => members.create(member('d3', { department: [2, 404] })))).toBe(60123);
    const many = Array.from({ length: 101 }, (_, i) => 1000 + i);
    for (const id of many) deptIds.add(id);
    expect(code(() => members.create(member('d4', { department: many })))).toBe(WECOM_ERR.tooManyDepts);
    expect(code(() => members.create(member('d5', { department: many.slice(0, 100) })))).toBe(0);
  });

  it('order and is_leader_in_dept must match department in length (60132)', () => {
    expect(code(() => members.create(member('o1', { department: [2, 3], order: [1] })))).toBe(WECOM_ERR.leaderLengthMismatch);
    expect(code(() => members.create(member('o2', { department: [2, 3], is_leader_in_dept: [1, 0, 0] })))).toBe(60132);
    expect(code(() => members.create(member('o3', { department: [2, 3], is_leader_in_dept: [1, 0] })))).toBe(0);
  });

  it('mobile: format (60103), unique across +86 and hyphen spellings (60104)', () => {
    for (const mobile of ['abc', '+86 138 0000 0000', '1380000000x', '+86', '1'.repeat(33)]) {
      expect(
        code(() => members.create(member('m0', { mobile }))),
        mobile,
      ).toBe(WECOM_ERR.badMobile);
    }
    expect(code(() => members.create(member('m1', { mobile: '13800000000' })))).toBe(0);
    expect(code(() => members.create(member('m2', { mobile: '+86 13800000000' })))).toBe(WECOM_ERR.mobileExists);
    expect(code(() => members.create(member('m3', { mobile: '138-0000-0000' })))).toBe(60104);
    expect(code(() => members.create(member('m4', { mobile: '+852 13800000000' })))).toBe(0);
  });

  it('email: format and 6-64 bytes (60105), unique ignoring case (60106)', () => {
    for (const email of ['not-an-email', 'a@b.c', `${'a'.repeat(60)}@x.com`, 'a b@x.com']) {
      expect(
        code(() => members.create(member('e0', { email }))),
        email,
      ).toBe(WECOM_ERR.badEmail);
    }
    expect(code(() => members.create(member('e1', { email: 'li@example.com' })))).toBe(0);
    expect(code(() => members.create(member('e2', { email: 'LI@example.com' })))).toBe(WECOM_ERR.emailExists);
  });

  it('mobile and email may not both be empty (60129)', () => {
    expect(code(() => members.create({ userid: 'none', name: '无', department: [2] }))).toBe(WECOM_ERR.mobileAndEmailEmpty);
    expect(code(() => members.create({ userid: 'none', name: '无', department: [2], mobile: '', email: '' }))).toBe(60129);
    expect(code(() => members.create({ userid: 'mailonly', name: '邮', department: [2], email: 'mail@example.com' }))).toBe(0);
  });

  it('direct_leader: at most 5 existing members; position at most 128 characters; enable 0 or 1', () => {
    for (let i = 0; i < 6; i++) members.create(member(`boss${i}`));
    const five = ['boss0', 'boss1', 'boss2', 'boss3', 'BOSS4'];
    expect(code(() => members.create(member('l1', { direct_leader: [...five, 'boss5'] })))).toBe(WECOM_ERR.invalidParam);
    expect(code(() => members.create(member('l2', { direct_leader: ['nobody'] })))).toBe(40058);
    expect(code(() => members.create(member('l3', { direct_leader: five })))).toBe(0);
    expect(members.get('l3')?.direct_leader).toEqual(['boss0', 'boss1', 'boss2', 'boss3', 'boss4']);
    expect(code(() => members.create(member('p1', { position: '职'.repeat(129) })))).toBe(40058);
    expect(code(() => members.create(member('p2', { position: '职'.repeat(128) })))).toBe(0);
    expect(code(() => members.create(member('x1', { enable: 2 })))).toBe(40058);
  });

  it('update: 60111 when missing; only the fields sent change; department replaces the whole list', () => {
    members.create(member('u1', { department: [2, 3], order: [5, 6], position: '经理', email: 'u1@example.com' }));
    expect(code(() => members.update({ userid: 'ghost', name: 'x' }))).toBe(WECOM_ERR.useridNotFound);
    expect(answer(() => members.update({ userid: 'U1', name: '新名字', enable: 0 }))).toMatchObject({ errcode: 0 });
    expect(members.get('u1')).toMatchObject({ userid: 'u1', name: '新名字', enable: 0, position: '经理', department: [2, 3], order: [5, 6] });
    members.update({ userid: 'u1', department: [3] });
    expect(members.get('u1')).toMatchObject({ department: [3], order: [0], is_leader_in_dept: [0], main_department: 3 });
    expect(code(() => members.update({ userid: 'u1', department: [404] }))).toBe(WECOM_ERR.invalidDeptId);
    expect(code(() => members.update({ userid: 'u1', order: [1, 2] }))).toBe(60132);
  });

  it('update validates what it sends: a mobile taken by someone else (60104), clearing both contacts (60129)', () => {
    members.create(member('a', { mobile: '13800000001' }));
    members.create(member('b', { mobile: '13800000002', email: 'b@example.com' }));
    expect(code(() => members.update({ userid: 'b', mobile: '+86 13800000001' }))).toBe(WECOM_ERR.mobileExists);
    expect(code(() => members.update({ userid: 'b', mobile: '13800000002' }))).toBe(0); // one's own is fine
    expect(code(() => members.update({ userid: 'a', mobile: '' }))).toBe(WECOM_ERR.mobileAndEmailEmpty);
    expect(code(() => members.update({ userid: 'b', mobile: '' }))).toBe(0);
    expect(members.get('b')).not.toHaveProperty('mobile');
    // The freed number can be taken by someone else now.
    expect(code(() => members.update({ userid: 'a', mobile: '13800000002' }))).toBe(0);
  });

  it('batchdelete is all or nothing and takes at most 200 userids', () => {
    for (const id of ['b1', 'b2', 'b3']) members.create(member(id));
    expect(code(() => members.batchDelete(['b1', 'ghost', 'b2']))).toBe(WECOM_ERR.useridNotFound);
    expect(members.list()).toHaveLength(3);
    expect(code(() => members.batchDelete(Array.from({ length: 201 }, (_, i) => `b${i}`)))).toBe(WECOM_ERR.invalidParam);
    expect(code(() => members.batchDelete(['b1', 'b2']))).toBe(0);
    expect(members.list().map((u) => u.userid)).toEqual(['b3']);
  });
});

describe('the member indexes follow every change', () => {
  it('inDept tells whether a department still has direct members', () => {
    members.create(member('a', { department: [2, 3] }));
    expect([members.inDept(2), members.inDept(3), members.inDept(1)]).toEqual([true, true, false]);
    members.update({ userid: 'a', department: [3] });
    expect([members.inDept(2), members.inDept(3)]).toEqual([false, true]);
    members.delete('A');
    expect(members.inDept(3)).toBe(false);
  });

  it('keeps the userid as first spelled, finds it in any case, and hands out copies', () => {
    members.create(member('Mixed.Case'));
    expect(members.get('mixed.case')?.userid).toBe('Mixed.Case');
    members.get('Mixed.Case')!.name = 'changed';
    members.list()[0]!.department.push(2);
    expect(members.get('MIXED.CASE')).toMatchObject({ name: '张三', department: [1] });
  });

  it('a deleted member frees its mobile and email for someone else', () => {
    members.create(member('a', { mobile: '13800000009', email: 'a@example.com' }));
    members.delete('a');
    expect(code(() => members.create(member('b', { mobile: '+86 13800000009', email: 'A@example.com' })))).toBe(0);
    expect(code(() => members.delete('a'))).toBe(WECOM_ERR.useridNotFound);
    expect(code(() => members.delete(''))).toBe(WECOM_ERR.invalidUserid);
  });
});

describe('listIds pages whole members by creation order', () => {
  it('continues after the last member of a page, even when earlier members are gone', () => {
    for (let i = 0; i < 5; i++) members.create(member(`u${i}`, { department: [1, 2] }));
    const first = members.listIds({ limit: 5 });
    expect((first.dept_user as { userid: string }[]).map((r) => r.userid)).toEqual(['u0', 'u0', 'u1', 'u1']);
    members.delete('u0');
    members.delete('u1');
    const second = members.listIds({ limit: 5, cursor: first.next_cursor });
    expect((second.dept_user as { userid: string }[]).map((r) => r.userid)).toEqual(['u2', 'u2', 'u3', 'u3']);
    const third = members.listIds({ limit: 5, cursor: second.next_cursor });
    expect(third).toEqual({
      next_cursor: '',
      dept_user: [
        { userid: 'u4', department: 1 },
        { userid: 'u4', department: 2 },
      ],
    });
  });

  it('a member in more departments than the limit still comes whole, alone on its page', () => {
    members.create(member('wide', { department: [1, 2, 3] }));
    members.create(member('next'));
    const page = members.listIds({ limit: 2 });
    expect(page.dept_user).toHaveLength(3);
    expect(page.next_cursor).not.toBe('');
    expect(code(() => members.listIds({ limit: 0 }))).toBe(WECOM_ERR.invalidParam);
  });
});
