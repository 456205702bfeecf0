import { describe, expect, it } from 'vitest';
import type { DingTalkUser } from '../../lib/ports';
import {
  isValidWeComUserId,
  mapDept,
  mapUser,
  type UserMappingContext,
  WECOM_ROOT_DEPT_ID,
  weComDeptName,
  weComMobile,
  wecomDeptIdFor,
} from '../../lib/sync/mapping';
import { boundedOrder, WECOM_MAX_ORDER } from '../../lib/sync/order';
import { mappingError } from './mapping-error-of';

describe('isValidWeComUserId', () => {
  it.each([
    ['a', true],
    ['0', true],
    ['zhang.san@corp-1_x', true],
    ['x'.repeat(64), true],
    ['x'.repeat(65), false],
    ['', false],
    ['_abc', false],
    ['-abc', false],
    ['@abc', false],
    ['.abc', false],
    ['a b', false],
    ['a#b', false],
    ['张三', false],
    ['abc\n', false],
    ['manager4821', true],
  ])('%j → %s', (id, valid) => {
    expect(isValidWeComUserId(id)).toBe(valid);
  });
});

describe('weComMobile', () => {
  it.each([
    [{ mobile: '13800000000' }, '+86 13800000000'],
    [{ mobile: '13800000000', state_code: '86' }, '+86 13800000000'],
    [{ mobile: '13800000000', state_code: '+86' }, '+86 13800000000'],
    [{ mobile: ' 13800000000 ', state_code: ' +86 ' }, '+86 13800000000'],
    [{ mobile: '91234567', state_code: '852' }, '+852 91234567'],
    [{ mobile: '+852-91234567' }, '+852 91234567'],
    [{ mobile: '+852-91234567', state_code: '86' }, '+852 91234567'],
    [{ mobile: '+1 415-555-0100' }, '+1 415-555-0100'],
    [{ mobile: '+8613800000000', state_code: '86' }, '+86 13800000000'],
    [{ mobile: '138 0000 0000' }, '+86 13800000000'],
    [{ mobile: '' }, undefined],
    [{ mobile: '   ' }, undefined],
    [{}, undefined],
  ])('%j → %s', (fields, expected) => {
    expect(weComMobile({ userid: 'u1', ...fields })).toBe(expected);
  });

  it.each([
    [{ mobile: '138abc' }, 'may only contain digits'],
    [{ mobile: '13800000000', state_code: 'CN' }, 'country code "CN" is not 1-4 digits'],
    [{ mobile: '+4413800000000', state_code: '86' }, 'starts with + but not with its country code +86'],
    [{ mobile: '1'.repeat(30) }, 'longer than 32 characters'],
  ])('%j is refused with a reason', (fields, reason) => {
    const e = mappingError(() => weComMobile({ userid: 'u1', ...fields }));
    expect(e.code).toBe('invalid_mobile');
    expect(e.message).toContain('user u1');
    expect(e.message).toContain(reason);
    // The message becomes lastError and the status report's `error`: no personal data in it.
    expect(e.message).not.toContain(fields.mobile);
  });
});

describe('mapUser', () => {
  const deptMap = new Map([
    [1, 1],
    [10, 10],
    [20, 3000],
  ]);
  const ctx = (over: Partial<UserMappingContext> = {}): UserMappingContext => ({
    wecomDeptId: (id) => deptMap.get(id),
    isSyncedUser: (id) => id === 'boss',
    toInvite: false,
    ...over,
  });
  const user = (over: Partial<DingTalkUser> = {}): DingTalkUser => ({
    userid: 'zhangsan',
    name: '张三',
    mobile: '13800000000',
    state_code: '86',
    dept_id_list: [10],
    ...over,
  });

  it('maps a complete user', () => {
    const payload = mapUser(
      user({
        email: 'zs@example.com',
        org_email: 'zs@corp.example.com',
        title: 'Engineer',
        telephone: '010-1234',
        manager_userid: 'boss',
        dept_id_list: [10, 20],
        dept_order_list: [
          { dept_id: 10, order: '5' },
          { dept_id: 20, order: '176318668975061512' },
        ],
        leader_in_dept: [
          { dept_id: 10, leader: false },
          { dept_id: 20, leader: true },
        ],
      }),
      ctx({ toInvite: true }),
    );
    expect(payload).toEqual({
      userid: 'zhangsan',
      name: '张三',
      mobile: '+86 13800000000',
      email: 'zs@example.com',
      position: 'Engineer',
      telephone: '010-1234',
      department: [10, 3000],
      order: [5, boundedOrder('176318668975061512')],
      is_leader_in_dept: [0, 1],
      direct_leader: ['boss'],
      enable: 1,
      to_invite: true,
    });
  });

  it('sends empty position, telephone and leader so removals in DingTalk reach WeCom', () => {
    const payload = mapUser(user(), ctx());
    expect(payload.position).toBe('');
    expect(payload.telephone).toBe('');
    expect(payload.direct_leader).toEqual([]);
    expect(payload.to_invite).toBe(false);
    expect(payload).not.toHaveProperty('email');
  });

  it('falls back to org_email, and needs no mobile when there is an email', () => {
    const payload = mapUser(user({ mobile: undefined, org_email: ' zs@corp.example.com ' }), ctx());
    expect(payload.email).toBe('zs@corp.example.com');
    expect(payload).not.toHaveProperty('mobile');
    expect(mapUser(user({ email: '  ', org_email: 'o@x.cn' }), ctx()).email).toBe('o@x.cn');
  });

  it('refuses a user with neither mobile nor email', () => {
    const e = mappingError(() => mapUser(user({ mobile: undefined, email: '', org_email: undefined }), ctx()));
    expect(e.code).toBe('no_contact');
    expect(e.message).toContain('user zhangsan has neither mobile nor email: WeCom requires one');
  });

  it.each(['_x', 'has space', 'x'.repeat(65), '李四'])('refuses userid %j', (userid) => {
    const e = mappingError(() => mapUser(user({ userid }), ctx()));
    expect(e.code).toBe('invalid_userid');
    expect(e.message).toContain(JSON.stringify(userid));
  });

  it('trims the name and bounds it to 64 characters without cutting a surrogate pair', () => {
    expect(mapUser(user({ name: '  张三 \n' }), ctx()).name).toBe('张三');
    const long = '𠮷'.repeat(70); // outside the BMP: 2 UTF-16 units each
    const name = mapUser(user({ name: long }), ctx()).name;
    expect(Array.from(name)).toHaveLength(64);
    expect(name).toBe('𠮷'.repeat(64));
  });

  it('refuses an empty name', () => {
    expect(mappingError(() => mapUser(user({ name: '   ' }), ctx())).code).toBe('no_name');
  });

  it('bounds the position to 128 characters', () => {
    expect(mapUser(user({ title: 'x'.repeat(200) }), ctx()).position).toBe('x'.repeat(128));
  });

  it('skips departments that are not synced and keeps the arrays aligned', () => {
    const payload = mapUser(
      user({
        dept_id_list: [99, 20, 10, 20],
        dept_order_list: [
          { dept_id: 99, order: '7' },
          { dept_id: 10, order: '3' },
        ],
        leader_in_dept: [{ dept_id: 10, leader: true }],
      }),
      ctx(),
    );
    expect(payload.department).toEqual([3000, 10]);
    expect(payload.order).toEqual([0, 3]);
    expect(payload.is_leader_in_dept).toEqual([0, 1]);
  });

  it('refuses a user in no synced department, naming the DingTalk departments', () => {
    const e = mappingError(() => mapUser(user({ dept_id_list: [98, 99] }), ctx()));
    expect(e.code).toBe('no_department');
    expect(e.message).toContain('98, 99');
  });

  it('refuses more than 100 departments', () => {
    const ids = Array.from({ length: 101 }, (_, i) => i + 100);
    const e = mappingError(() => mapUser(user({ dept_id_list: ids }), ctx({ wecomDeptId: (id) => id })));
    expect(e.code).toBe('too_many_departments');
  });

  it.each([
    ['no manager', undefined, []],
    ['a synced manager', 'boss', ['boss']],
    ['a manager not synced yet', 'other', []],
    ['the user itself', 'zhangsan', []],
  ])('direct_leader with %s', (_label, manager, expected) => {
    const c = ctx({ isSyncedUser: (id) => id === 'boss' || id === 'zhangsan' });
    expect(mapUser(user({ manager_userid: manager }), c).direct_leader).toEqual(expected);
  });

  it('names the user and department when an order is not a number', () => {
    const e = mappingError(() => mapUser(user({ dept_order_list: [{ dept_id: 10, order: 'x' }] }), ctx()));
    expect(e.code).toBe('invalid_order');
    expect(e.message).toContain('user zhangsan, department 10');
  });

  it('passes on mobile errors', () => {
    expect(mappingError(() => mapUser(user({ mobile: 'call me' }), ctx())).code).toBe('invalid_mobile');
  });
});

describe('mapDept', () => {
  it('maps name and parent, and the id only when asked', () => {
    expect(mapDept({ dept_id: 5, name: 'Sales', parent_id: 1 }, 1)).toEqual({ name: 'Sales', parentid: 1 });
    expect(mapDept({ dept_id: 5, name: 'Sales', parent_id: 1 }, 7, { id: 5 })).toEqual({ name: 'Sales', parentid: 7, id: 5 });
  });

  it('maps the order mirrored when DingTalk gives one', () => {
    expect(mapDept({ dept_id: 5, name: 'Sales', order: '10' }, 1).order).toBe(WECOM_MAX_ORDER - 10);
    expect(mapDept({ dept_id: 5, name: 'Sales', order: '' }, 1)).not.toHaveProperty('order');
    const e = mappingError(() => mapDept({ dept_id: 5, name: 'Sales', order: 'soon' }, 1));
    expect(e.code).toBe('invalid_order');
    expect(e.message).toContain('department 5');
  });

  it.each([
    ['研发:北京', '研发_北京'],
    ['a\\b:c*d?e"f<g>h|i', 'a_b_c_d_e_f_g_h_i'],
    ['市场｜销售', '市场_销售'],
    ['“核心”团队', '_核心_团队'],
    ['  Sales  ', 'Sales'],
    ['Line\none', 'Line one'],
    ['', 'dept-42'],
    ['   ', 'dept-42'],
    ['研发：北京', '研发：北京'], // a full-width colon is an ordinary character
  ])('name %j → %j', (name, expected) => {
    expect(weComDeptName({ dept_id: 42, name })).toBe(expected);
    expect(mapDept({ dept_id: 42, name }, 1).name).toBe(expected);
  });

  it('bounds the name to 64 code points and trims what the cut leaves', () => {
    expect(weComDeptName({ dept_id: 1, name: '部'.repeat(80) })).toBe('部'.repeat(64));
    expect(Array.from(weComDeptName({ dept_id: 1, name: '😀'.repeat(65) }))).toHaveLength(64);
    expect(weComDeptName({ dept_id: 1, name: `${'a'.repeat(63)} b` })).toBe('a'.repeat(63));
  });
});

describe('wecomDeptIdFor', () => {
  it.each([
    [1, undefined],
    [0, undefined],
    [-3, undefined],
    [2, 2],
    [919684607, 919684607],
    [2 ** 31 - 1, 2 ** 31 - 1],
    [2 ** 31, undefined],
    [2 ** 40, undefined],
    [1.5, undefined],
  ])('%d → %s', (id, expected) => {
    expect(wecomDeptIdFor(id)).toBe(expected);
  });

  it('leaves the root to WECOM_ROOT_DEPT_ID', () => {
    expect(WECOM_ROOT_DEPT_ID).toBe(1);
  });
});
