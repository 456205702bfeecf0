/**
 * How what a test or seed hands the DingTalk simulator becomes a stored record: department and
 * user inputs, exact `order` values beyond 2^53, and the fields DingTalk always fills in. Pure:
 * throws a plain Error on input no real organisation could contain.
 */
import { randomBytes } from 'node:crypto';
import type { DingTalkUser } from '../ports';

/** An `order`: a number only while it is a safe integer; beyond 2^53 a string or bigint. */
export type OrderInput = string | number | bigint;

/** A department as given to `addDept` / `seed`; `order` may exceed 2^53 (pass a string or bigint). */
export interface DeptInput {
  /** Required in `seed`; assigned when omitted in `addDept`. */
  dept_id?: number;
  name: string;
  /** Required for every department but the root. */
  parent_id?: number;
  order?: OrderInput;
}

/** A user as given to `addUser` / `seed`: DingTalk's fields, userid assigned when omitted. */
export interface UserInput extends Omit<DingTalkUser, 'userid' | 'dept_order_list'> {
  userid?: string;
  dept_order_list?: { dept_id: number; order: OrderInput }[];
}

/** The name itself, once known to be a non-empty string. */
export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new Error('a name must be a non-empty string');
  return name;
}

/** Exact decimal string of an order, which may exceed 2^53. */
export function toOrder(v: OrderInput): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`order ${v} is not a safe integer: pass big orders as a string or bigint`);
    return String(v);
  }
  if (!/^-?\d+$/.test(v)) throw new Error(`order "${v}" is not an integer`);
  return v;
}

/**
 * The stored form of a user: every department has an order and a leader flag (DingTalk lists
 * both for each department), entries for other departments are dropped, unset fields absent.
 */
export function normalizeUser(input: UserInput & { userid: string }, deptExists: (id: number) => boolean, defaultOrder: () => string): DingTalkUser {
  const deptIds = input.dept_id_list;
  if (!Array.isArray(deptIds) || deptIds.length === 0) throw new Error(`user ${input.userid}: dept_id_list must not be empty`);
  if (new Set(deptIds).size !== deptIds.length) throw new Error(`user ${input.userid}: dept_id_list has duplicates`);
  for (const id of deptIds) if (!deptExists(id)) throw new Error(`user ${input.userid}: department ${id} does not exist`);
  const orders = new Map((input.dept_order_list ?? []).map((e) => [e.dept_id, toOrder(e.order)]));
  const leaders = new Map((input.leader_in_dept ?? []).map((e) => [e.dept_id, e.leader]));
  const user: DingTalkUser = {
    ...stripUndefined(input),
    userid: input.userid,
    name: checkName(input.name),
    unionid: input.unionid ?? `sbx${randomBytes(8).toString('hex')}iE`,
    active: input.active ?? true,
    admin: input.admin ?? false,
    boss: input.boss ?? false,
    dept_id_list: [...deptIds],
    dept_order_list: deptIds.map((dept_id) => ({ dept_id, order: orders.get(dept_id) ?? defaultOrder() })),
    leader_in_dept: deptIds.map((dept_id) => ({ dept_id, leader: leaders.get(dept_id) ?? false })),
  };
  return user;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
