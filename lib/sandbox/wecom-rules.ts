/**
 * WeCom's field rules for departments and members (platform/wecom.md §3, §4), as pure checks:
 * each returns the violation WeCom would answer with, or undefined. Rules that need the
 * directory (existence, uniqueness, depth) live in the simulator.
 *
 * Errcodes the documentation does not name (a malformed `order`, too many `direct_leader`, …)
 * get 40058, WeCom's generic "invalid parameter". They deliberately avoid 60111 and 60003,
 * which a sync reads as "the object is gone, create it instead".
 */
import { WECOM_ERR } from '../wecom/errors';

export interface Violation {
  errcode: number;
  errmsg: string;
}

export const WECOM_ERRMSG: Record<number, string> = {
  [-1]: 'system busy',
  40001: 'invalid credential',
  40003: 'invalid userid',
  40013: 'invalid corpid',
  40014: 'invalid access_token',
  40058: 'invalid parameter',
  41001: 'access_token missing',
  42001: 'access_token expired',
  43001: 'require GET method',
  43002: 'require POST method',
  45009: 'api freq out of limit',
  47001: 'data format error',
  48002: 'api forbidden',
  48009: 'api forbidden: the contact-sync secret may not read member or department details',
  60003: 'department not found',
  60004: 'parent department not found',
  60005: 'department contains members',
  60006: 'department contains sub-departments',
  60007: 'not allowed to operate on the root department',
  60008: 'department existed',
  60009: 'department name contains illegal characters',
  60010: 'department circular reference',
  60011: 'no privilege to access/modify contact/party/agent',
  60020: 'not allow to access from your ip',
  60102: 'userid existed',
  60103: 'mobile invalid',
  60104: 'mobile existed',
  60105: 'email invalid',
  60106: 'email existed',
  60110: 'user department count exceeds limit',
  60111: 'userid not found',
  60112: 'invalid name',
  60123: 'invalid department id',
  60124: 'invalid parent department id',
  60125: 'invalid department name',
  60129: 'mobile and email can not be both empty',
  60132: 'is_leader_in_dept size mismatch department size',
  81002: 'department level exceeds limit',
};

export const ROOT_DEPT_ID = 1;
/** Levels below and including the root. */
export const MAX_DEPT_DEPTH = 15;
const MAX_DEPT_ID = 2 ** 32 - 1;
const MAX_USER_DEPTS = 100;
export const MAX_DIRECT_LEADERS = 5;
export const MAX_BATCH_DELETE = 200;
export const MAX_LIST_ID_LIMIT = 10_000;

/** WeCom's text for the errcode followed by what exactly was wrong. */
function violation(errcode: number, detail: string): Violation {
  return { errcode, errmsg: `${WECOM_ERRMSG[errcode] ?? 'error'}: ${detail}` };
}

/** Length in characters (code points), as WeCom counts names. */
function chars(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function deptNameViolation(name: unknown): Violation | undefined {
  if (typeof name !== 'string' || name.length === 0 || chars(name) > 64) {
    return violation(WECOM_ERR.badDeptName, 'name must be 1-64 characters');
  }
  if (/[\\:*?"<>|]/.test(name)) return violation(WECOM_ERR.deptNameIllegalChars, 'name may not contain \\ : * ? " < > |');
  return undefined;
}

/** A department id chosen by the caller on create. */
export function newDeptIdViolation(id: unknown): Violation | undefined {
  if (typeof id !== 'number' || !Number.isInteger(id) || id <= ROOT_DEPT_ID || id > MAX_DEPT_ID) {
    return violation(WECOM_ERR.invalidDeptId, `id must be an integer from 2 to ${MAX_DEPT_ID}`);
  }
  return undefined;
}

/** A department's or member's `order`: WeCom stores it as an unsigned 32-bit number. */
export function orderViolation(order: unknown): Violation | undefined {
  if (typeof order !== 'number' || !Number.isInteger(order) || order < 0 || order > MAX_DEPT_ID) {
    return violation(WECOM_ERR.invalidParam, 'order must be an integer from 0 to 2^32-1');
  }
  return undefined;
}

/** 1-64 bytes of [0-9A-Za-z_-@.], first a letter or digit. */
export function useridViolation(userid: unknown): Violation | undefined {
  if (typeof userid !== 'string' || !/^[0-9A-Za-z][0-9A-Za-z_\-@.]{0,63}$/.test(userid)) {
    return violation(WECOM_ERR.invalidUserid, 'userid must be 1-64 of [0-9A-Za-z_-@.], starting with a letter or digit');
  }
  return undefined;
}

export function userNameViolation(name: unknown): Violation | undefined {
  if (typeof name !== 'string' || name.trim().length === 0 || chars(name) > 64) {
    return violation(WECOM_ERR.badName, 'name must be 1-64 characters');
  }
  return undefined;
}

/** `13800000000`, `+86 13800000000`, `+852 5123-4567`: digits and single hyphens, ≤32 characters. */
export function mobileViolation(mobile: unknown): Violation | undefined {
  if (typeof mobile !== 'string' || mobile.length > 32 || !/^(?:\+\d{1,4} )?\d(?:-?\d){4,}$/.test(mobile)) {
    return violation(WECOM_ERR.badMobile, 'mobile must be digits, optionally "+<country code> " first');
  }
  return undefined;
}

/**
 * What makes two mobiles the same number: WeCom treats `+86 138…` and `138…` as one, and
 * hyphens as decoration.
 */
export function mobileKey(mobile: string): string {
  return mobile.replace(/^\+86 /, '').replace(/-/g, '');
}

export function emailViolation(email: unknown): Violation | undefined {
  if (typeof email !== 'string') return violation(WECOM_ERR.badEmail, 'email must be a string');
  const bytes = Buffer.byteLength(email, 'utf8');
  if (bytes < 6 || bytes > 64 || !/^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/.test(email)) {
    return violation(WECOM_ERR.badEmail, 'email must be an address of 6-64 bytes');
  }
  return undefined;
}

export function emailKey(email: string): string {
  return email.toLowerCase();
}

export function positionViolation(position: unknown): Violation | undefined {
  if (typeof position !== 'string' || chars(position) > 128) return violation(WECOM_ERR.invalidParam, 'position must be at most 128 characters');
  return undefined;
}

/** `department` as sent by the caller: a non-empty list of distinct integer ids, at most 100. */
export function departmentListViolation(department: unknown): Violation | undefined {
  if (!Array.isArray(department) || department.length === 0 || !department.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)) {
    return violation(WECOM_ERR.invalidDeptId, 'department must be a non-empty list of department ids');
  }
  if (department.length > MAX_USER_DEPTS) return violation(WECOM_ERR.tooManyDepts, `at most ${MAX_USER_DEPTS} departments`);
  if (new Set(department).size !== department.length) return violation(WECOM_ERR.invalidDeptId, 'department lists an id twice');
  return undefined;
}

/** `order` or `is_leader_in_dept`: one entry per department. */
export function perDeptListViolation(field: 'order' | 'is_leader_in_dept', list: unknown, departments: number): Violation | undefined {
  if (!Array.isArray(list) || list.length !== departments) {
    return violation(WECOM_ERR.leaderLengthMismatch, `${field} must have one entry per department (${departments})`);
  }
  for (const v of list) {
    const bad =
      field === 'order' ? orderViolation(v) : v !== 0 && v !== 1 ? violation(WECOM_ERR.invalidParam, 'is_leader_in_dept entries must be 0 or 1') : undefined;
    if (bad) return bad;
  }
  return undefined;
}
