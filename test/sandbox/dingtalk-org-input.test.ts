/**
 * How inputs become the DingTalk simulator's stored records (lib/sandbox/dingtalk-org-input.ts):
 * exact orders beyond 2^53, and the per-department fields DingTalk always fills in.
 */
import { describe, expect, it } from 'vitest';
import { checkName, normalizeUser, toOrder } from '../../lib/sandbox/dingtalk-org-input';

describe('orders are kept as exact decimal strings', () => {
  it('accepts safe numbers, bigints and integer strings of any size', () => {
    expect(toOrder(7)).toBe('7');
    expect(toOrder(176543210987654321n)).toBe('176543210987654321');
    expect(toOrder('176543210987654321')).toBe('176543210987654321');
    expect(toOrder('-3')).toBe('-3');
  });

  it('refuses a number that has already lost digits, and anything that is not an integer', () => {
    expect(() => toOrder(2 ** 53 + 2)).toThrow(/string or bigint/);
    expect(() => toOrder(1.5)).toThrow(/not a safe integer/);
    expect(() => toOrder('12a')).toThrow(/not an integer/);
  });
});

describe('a stored user has an order and a leader flag for each of its departments', () => {
  let next = 0;
  const defaultOrder = () => String(++next);
  const exists = (id: number) => id !== 404;

  it('fills in what is missing, drops entries for other departments and unset fields', () => {
    next = 0;
    const user = normalizeUser(
      {
        userid: 'u',
        name: '员',
        title: undefined,
        dept_id_list: [10, 20],
        dept_order_list: [
          { dept_id: 20, order: 5 },
          { dept_id: 99, order: 1 },
        ],
        leader_in_dept: [{ dept_id: 10, leader: true }],
      },
      exists,
      defaultOrder,
    );
    expect(user).toEqual({
      userid: 'u',
      name: '员',
      unionid: expect.stringMatching(/^sbx[0-9a-f]{16}iE$/),
      active: true,
      admin: false,
      boss: false,
      dept_id_list: [10, 20],
      dept_order_list: [
        { dept_id: 10, order: '1' },
        { dept_id: 20, order: '5' },
      ],
      leader_in_dept: [
        { dept_id: 10, leader: true },
        { dept_id: 20, leader: false },
      ],
    });
    expect(user).not.toHaveProperty('title');
  });

  it('keeps the flags and unionid it is given', () => {
    const user = normalizeUser(
      { userid: 'b', name: '老板', unionid: 'given', active: false, admin: true, boss: true, dept_id_list: [1] },
      exists,
      defaultOrder,
    );
    expect(user).toMatchObject({ unionid: 'given', active: false, admin: true, boss: true });
  });

  it('refuses no department, a department twice, a missing department and an empty name', () => {
    expect(() => normalizeUser({ userid: 'u', name: '员', dept_id_list: [] }, exists, defaultOrder)).toThrow(/must not be empty/);
    expect(() => normalizeUser({ userid: 'u', name: '员', dept_id_list: [1, 1] }, exists, defaultOrder)).toThrow(/duplicates/);
    expect(() => normalizeUser({ userid: 'u', name: '员', dept_id_list: [404] }, exists, defaultOrder)).toThrow(/department 404/);
    expect(() => normalizeUser({ userid: 'u', name: ' ', dept_id_list: [1] }, exists, defaultOrder)).toThrow(/name/);
    expect(() => checkName(undefined)).toThrow(/non-empty string/);
    expect(checkName('名')).toBe('名');
  });
});
