/**
 * WeCom's field rules for departments and members, as WeCom's contact API enforces them on
 * create and update (lengths and character sets of names and userids, mobile and email formats,
 * `order` as an unsigned 32-bit number, one `order` / `is_leader_in_dept` entry per department),
 * as pure checks: each returns the violation WeCom would answer with, or undefined. Rules that
 * need the directory (existence, uniqueness, depth) live in wecom-departments.ts and
 * wecom-members.ts.
 *
 * Errcodes the documentation does not name (a malformed `order`, too many `direct_leader`, …)
 * get 40058, WeCom's generic "invalid parameter". They deliberately avoid 60111 and 60003,
 * which a sync reads as "the object is gone, create it instead".
 */
import { WECOM_ROOT_DEPT_ID } from '../sync/mapping';
import { WECOM_ERR } from '../wecom/errors';
import { SimError } from './http';

export interface Violation {
  errcode: number;
  errmsg: string;
}

export const WECOM_ERRMSG: Record<number, string> = {
  [WECOM_ERR.systemBusy]: 'system busy',
  [WECOM_ERR.badSecret]: 'invalid credential',
  [WECOM_ERR.invalidUserid]: 'invalid userid',
  [WECOM_ERR.invalidCorpId]: 'invalid corpid',
  [WECOM_ERR.invalidToken]: 'invalid access_token',
  [WECOM_ERR.invalidParam]: 'invalid parameter',
  [WECOM_ERR.missingToken]: 'access_token missing',
  [WECOM_ERR.expiredToken]: 'access_token expired',
  [WECOM_ERR.requireGet]: 'require GET method',
  [WECOM_ERR.requirePost]: 'require POST method',
  [WECOM_ERR.rateLimited]: 'api freq out of limit',
  [WECOM_ERR.badJson]: 'data format error',
  [WECOM_ERR.apiForbidden]: 'api forbidden',
  [WECOM_ERR.detailReadForbidden]: 'api forbidden: the contact-sync secret may not read member or department details',
  [WECOM_ERR.deptNotFound]: 'department not found',
  [WECOM_ERR.parentNotFound]: 'parent department not found',
  [WECOM_ERR.deptHasMembers]: 'department contains members',
  [WECOM_ERR.deptHasChildren]: 'department contains sub-departments',
  [WECOM_ERR.rootDept]: 'not allowed to operate on the root department',
  [WECOM_ERR.deptExists]: 'department existed',
  [WECOM_ERR.deptNameIllegalChars]: 'department name contains illegal characters',
  [WECOM_ERR.deptCircular]: 'department circular reference',
  [WECOM_ERR.noPrivilege]: 'no privilege to access/modify contact/party/agent',
  [WECOM_ERR.untrustedIp]: 'not allow to access from your ip',
  [WECOM_ERR.useridExists]: 'userid existed',
  [WECOM_ERR.badMobile]: 'mobile invalid',
  [WECOM_ERR.mobileExists]: 'mobile existed',
  [WECOM_ERR.badEmail]: 'email invalid',
  [WECOM_ERR.emailExists]: 'email existed',
  [WECOM_ERR.tooManyDepts]: 'user department count exceeds limit',
  [WECOM_ERR.useridNotFound]: 'userid not found',
  [WECOM_ERR.badName]: 'invalid name',
  [WECOM_ERR.invalidDeptId]: 'invalid department id',
  [WECOM_ERR.invalidParentId]: 'invalid parent department id',
  [WECOM_ERR.badDeptName]: 'invalid department name',
  [WECOM_ERR.mobileAndEmailEmpty]: 'mobile and email can not be both empty',
  [WECOM_ERR.leaderLengthMismatch]: 'is_leader_in_dept size mismatch department size',
  [WECOM_ERR.tooDeep]: 'department level exceeds limit',
};

/** Levels below and including the root. */
export const MAX_DEPT_DEPTH = 15;
const MAX_DEPT_ID = 2 ** 32 - 1;
const MAX_USER_DEPTS = 100;
export const MAX_DIRECT_LEADERS = 5;
export const MAX_BATCH_DELETE = 200;
export const MAX_LIST_ID_LIMIT = 10_000;

/** Answers a violation as WeCom does: with its errcode, as a SimError. */
export function enforce(v: Violation | undefined): void {
  if (v) throw new SimError(v.errcode, v.errmsg);
}

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
  if (typeof id !== 'number' || !Number.isInteger(id) || id <= WECOM_ROOT_DEPT_ID || id > MAX_DEPT_ID) {
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
