import { describe, expect, it } from 'vitest';
import type { DingTalkUser } from '../../lib/ports';
import {
  ancestorChain,
  boundedOrder,
  canonicalJson,
  deptInScope,
  deptOrder,
  isValidWeComUserId,
  MappingError,
  mapDept,
  mapUser,
  payloadHash,
  type UserMappingContext,
  WECOM_MAX_ORDER,
  WECOM_ROOT_DEPT_ID,
  weComDeptName,
  weComMobile,
  wecomDeptIdFor,
} from '../../lib/sync/mapping';

function mappingError(fn: () => unknown): MappingError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MappingError) return e;
    throw e;
  }
  throw new Error('expected a MappingError, nothing was thrown');
}

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

describe('boundedOrder', () => {
  const big = (n: bigint): string => n.toString();

  it.each([
    ['0', 0],
    ['1', 1],
    ['10', 10],
    [' 42 ', 42],
    ['-5', 0],
    [big(2n ** 31n - 1n), 2 ** 31 - 1],
    [big(2n ** 31n), 2 ** 31],
    ['0000000000000000000000007', 7],
    [big(2n ** 95n), WECOM_MAX_ORDER],
    [big(2n ** 200n), WECOM_MAX_ORDER],
  ])('%s → %d', (order, expected) => {
    expect(boundedOrder(order)).toBe(expected);
  });

  it('keeps the relative order of values around 2^31, 2^32, 2^53, 1.8e17 and 2^63', () => {
    const values = [
      0n,
      1n,
      2n ** 31n - 1n,
      2n ** 31n,
      2n ** 31n + 64n,
      2n ** 32n - 1n,
      2n ** 32n,
      2n ** 32n + 1n,
      2n ** 53n - 1n,
      2n ** 53n,
      2n ** 53n + 1n,
      176318668975061512n,
      176318668975061512n + 2n ** 32n,
      180000000000000000n,
      2n ** 63n - 1n,
      2n ** 63n,
      2n ** 64n - 1n,
      2n ** 95n - 1n,
      2n ** 95n,
    ];
    const mapped = values.map((v) => boundedOrder(v.toString()));
    for (let i = 1; i < mapped.length; i++) {
      expect(mapped[i]!, `${values[i]} vs ${values[i - 1]}`).toBeGreaterThanOrEqual(mapped[i - 1]!);
    }
    for (const m of mapped) {
      expect(Number.isInteger(m)).toBe(true);
      expect(m).toBeGreaterThanOrEqual(0);
      expect(m).toBeLessThanOrEqual(WECOM_MAX_ORDER);
    }
  });

  it('separates adjacent exponents and slots that are apart by one mantissa step', () => {
    expect(boundedOrder((2n ** 32n).toString())).toBeGreaterThan(boundedOrder((2n ** 32n - 1n).toString()));
    expect(boundedOrder((2n ** 63n).toString())).toBeGreaterThan(boundedOrder((2n ** 63n - 1n).toString()));
    // Between 2^57 and 2^58 one step is 2^(58-26) = 2^32. base + 2^32 - 1 is not a double: as a
    // Number it would round up to base + 2^32 and land one step too high; the BigInt does not.
    const base = 2n ** 57n;
    expect(Number(base + 2n ** 32n - 1n)).toBe(Number(base + 2n ** 32n));
    expect(boundedOrder((base + 2n ** 32n).toString())).toBe(boundedOrder(base.toString()) + 1);
    expect(boundedOrder((base + 2n ** 32n - 1n).toString())).toBe(boundedOrder(base.toString()));
  });

  it.each(['', 'abc', '1.5', '1e17', '+-1', '0x10'])('rejects %j as not a whole number', (order) => {
    expect(mappingError(() => boundedOrder(order)).code).toBe('invalid_order');
  });
});

describe('deptOrder', () => {
  it('mirrors the bounded value: DingTalk puts small department orders first, WeCom large ones', () => {
    expect(deptOrder('0')).toBe(WECOM_MAX_ORDER);
    expect(deptOrder('1')).toBe(WECOM_MAX_ORDER - 1);
    expect(deptOrder('2')).toBeLessThan(deptOrder('1'));
    expect(deptOrder('176318668975061512')).toBeLessThan(deptOrder('4294967296'));
    expect(deptOrder((2n ** 96n).toString())).toBe(0);
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

describe('scope', () => {
  // 1 ─┬─ 2 ─┬─ 4 ── 8
  //    │     └─ 5
  //    └─ 3 ── 6 ── 7
  const parents = new Map([
    [2, 1],
    [3, 1],
    [4, 2],
    [5, 2],
    [6, 3],
    [7, 6],
    [8, 4],
  ]);
  const chain = (id: number): number[] => ancestorChain(id, (d) => parents.get(d));

  it('builds the chain nearest first', () => {
    expect(chain(8)).toEqual([8, 4, 2, 1]);
    expect(chain(1)).toEqual([1]);
  });

  it('stops on a cycle', () => {
    const cyclic = new Map([
      [2, 3],
      [3, 2],
    ]);
    expect(ancestorChain(2, (d) => cyclic.get(d))).toEqual([2, 3]);
  });

  it.each([
    // [dept, roots, excludes, in scope]
    [8, [1], [], true],
    [1, [1], [], true],
    [8, [1], [4], false],
    [4, [1], [4], false],
    [5, [1], [4], true],
    [7, [2], [], false],
    [5, [2], [], true],
    [2, [2], [], true],
    [1, [2], [], false],
    [7, [2, 6], [], true],
    [8, [1, 4], [2], true], // a root inside an excluded subtree is the nearer rule
    [5, [1, 4], [2], false],
    [2, [2], [2], false], // a root that is also excluded is out
    [7, [1], [3], false],
  ])('dept %d, roots %j, excluded %j → %s', (dept, roots, excludes, expected) => {
    expect(deptInScope(chain(dept), { rootDeptIds: roots, excludeDeptIds: excludes })).toBe(expected);
  });

  it('is out of scope when the chain reaches no root', () => {
    expect(deptInScope([9], { rootDeptIds: [1], excludeDeptIds: [] })).toBe(false);
  });
});

describe('payloadHash', () => {
  it('ignores key order at every depth', () => {
    const a = { userid: 'u', name: 'n', nested: { x: 1, y: [1, 2, { b: 2, a: 1 }] } };
    const b = { nested: { y: [1, 2, { a: 1, b: 2 }], x: 1 }, name: 'n', userid: 'u' };
    expect(payloadHash(a)).toBe(payloadHash(b));
  });

  it('treats an undefined property like a missing one', () => {
    expect(payloadHash({ a: 1, b: undefined })).toBe(payloadHash({ a: 1 }));
  });

  it('changes with any value, and with array order', () => {
    const base = payloadHash({ department: [1, 2], name: 'n' });
    expect(payloadHash({ department: [2, 1], name: 'n' })).not.toBe(base);
    expect(payloadHash({ department: [1, 2], name: 'm' })).not.toBe(base);
    expect(payloadHash({ department: [1, 2], name: 'n', enable: 1 })).not.toBe(base);
    expect(payloadHash({ department: ['1', 2], name: 'n' })).not.toBe(base);
  });

  it('is a sha256 hex digest of the canonical JSON', () => {
    expect(canonicalJson({ b: [1, 'x', null, true], a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":[1,"x",null,true]}');
    expect(payloadHash({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('hashes a mapped payload the same after a JSON round trip (as the store gives it back)', () => {
    const payload = mapUser(
      { userid: 'u1', name: 'N', mobile: '13800000000', dept_id_list: [1] },
      { wecomDeptId: (id) => id, isSyncedUser: () => false, toInvite: false },
    );
    expect(payloadHash(JSON.parse(JSON.stringify(payload)) as object)).toBe(payloadHash(payload));
  });
});
