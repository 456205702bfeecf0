/**
 * DingTalk's answers read losslessly and checked against the documented shapes, as the port's
 * types (`DingTalkUser`, `DingTalkDept`, pages, failed pushes).
 *
 * DingTalk's `order` values (≈1.76e17) exceed 2^53, so answers are parsed with lossless-json:
 * orders keep their exact decimal text, ids must be safe integers (never rounded), user ids stay
 * strings. A missing or mistyped field throws `ShapeError` (the client's retryable protocol
 * error), an id beyond 2^53 `UnsafeIntegerError` (permanent: asking again gives the same id),
 * except in failed pushes, which DingTalk never lists again and so are read as far as they can be.
 * A field whose absence would read as a departure (a person's `dept_id_list`, a department's
 * `parent_id`) is never defaulted: the answer is refused instead.
 */
import { isLosslessNumber, isSafeNumber, parse, parseLosslessNumber } from 'lossless-json';
import { isObj } from '../platform-http';
import type { DingTalkDept, DingTalkUser, DingTalkUserPage, FailedPush, FailedPushPage } from '../ports';

type Obj = Record<string, unknown>;

/** DingTalk's root department: the only one without a parent. */
const ROOT_DEPT_ID = 1;

/** JSON text to plain values without losing a digit (see `toPlain`); throws on text that is not JSON. */
export function parseAnswer(text: string): unknown {
  return toPlain(parse(text, null, parseLosslessNumber), '');
}

// ---------------------------------------------------------------------------------------------
// One reader per API answer

/** `topapi/v2/user/get`. */
export function userAnswer(answer: Obj): DingTalkUser {
  return userFrom(obj(answer.result, 'result'));
}

/** `topapi/v2/department/get`. */
export function deptAnswer(answer: Obj): DingTalkDept {
  return deptFrom(obj(answer.result, 'result'));
}

/** `topapi/v2/department/listsub`. */
export function subDeptsAnswer(answer: Obj): DingTalkDept[] {
  return arr(answer.result, 'result').map((d) => deptFrom(obj(d, 'department')));
}

/** `topapi/v2/user/list` for department `deptId`. */
export function userPageAnswer(answer: Obj, deptId: number): DingTalkUserPage {
  const r = obj(answer.result, 'result');
  const hasMore = r.has_more === true;
  const page: DingTalkUserPage = {
    hasMore,
    list: (r.list === undefined ? [] : arr(r.list, 'list')).map((u) => listedUserFrom(obj(u, 'user'), deptId)),
  };
  if (r.next_cursor !== undefined && r.next_cursor !== null) page.nextCursor = safeInt(r.next_cursor, 'next_cursor');
  if (hasMore && page.nextCursor === undefined) throw new ShapeError('has_more without next_cursor');
  return page;
}

/** `topapi/user/listid`. */
export function userIdsAnswer(answer: Obj): string[] {
  const r = obj(answer.result, 'result');
  return (r.userid_list === undefined ? [] : arr(r.userid_list, 'userid_list')).map((u) => str(u, 'userid'));
}

/** `call_back/get_call_back_failed_result`: never throws; each record keeps whatever ids it holds. */
export function failedPushesAnswer(answer: Obj): FailedPushPage {
  return {
    hasMore: answer.has_more === true,
    failed: (Array.isArray(answer.failed_list) ? answer.failed_list : []).filter(isObj).map(failedPushFrom),
  };
}

// ---------------------------------------------------------------------------------------------
// Lossless JSON → plain values → the port's shapes

/**
 * Turns lossless-json's tree into plain values. A field named `order` keeps its exact decimal
 * text (DingTalk's orders exceed 2^53). Other numbers become JS numbers when that is exact, or
 * else their exact decimal text, so nothing is ever silently rounded; the shape readers below
 * then refuse such a value where an id is expected. Array elements inherit the array's key.
 */
function toPlain(value: unknown, key: string): unknown {
  if (isLosslessNumber(value)) {
    const text = value.toString();
    if (key === 'order') return exactDecimal(text);
    return isSafeNumber(text) ? Number(text) : text;
  }
  if (Array.isArray(value)) return value.map((v) => toPlain(v, key));
  if (isObj(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlain(v, k);
    return out;
  }
  return value;
}

/** JSON integer text is already exact (JSON has no leading zeros); other forms are normalised when safe. */
function exactDecimal(text: string): string {
  if (/^-?\d+$/.test(text)) return text === '-0' ? '0' : text;
  return isSafeNumber(text) ? String(Number(text)) : text;
}

/** A shape problem found while mapping an answer; the client turns it into a PlatformError naming the API. */
export class ShapeError extends Error {}

/** An integer of the documented shape that no JS number holds exactly: refused, never rounded. */
export class UnsafeIntegerError extends ShapeError {}

function obj(v: unknown, what: string): Obj {
  if (!isObj(v)) throw new ShapeError(`${what} is not an object`);
  return v;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ShapeError(`${what} is not an array`);
  return v;
}

/** A string; a number is accepted as its decimal text (toPlain kept big ones exact). */
function str(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new ShapeError(`${what} is not a string`);
}

/** An id: a safe integer, as a number or numeric string. Beyond 2^53 it is refused, never rounded. */
function safeInt(v: unknown, what: string): number {
  const integer = Number.isInteger(v) || (typeof v === 'string' && /^-?\d+$/.test(v));
  const n = integer ? Number(v) : NaN;
  if (Number.isSafeInteger(n)) return n;
  const text = `${what} ${typeof v === 'string' ? v : String(v)}`;
  throw integer ? new UnsafeIntegerError(`${text} is not a safe integer`) : new ShapeError(`${text} is not an integer`);
}

function orderOf(v: unknown): string | undefined {
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

const USER_TEXT_FIELDS = [
  'unionid',
  'mobile',
  'state_code',
  'telephone',
  'job_number',
  'title',
  'email',
  'org_email',
  'work_place',
  'remark',
  'manager_userid',
] as const;

const USER_FLAGS = ['active', 'admin', 'boss'] as const;

function userFrom(o: Obj): DingTalkUser {
  const user: DingTalkUser = {
    userid: str(o.userid, 'userid'),
    // DingTalk always sends a name; an absent one is left for the mapping to refuse, rather
    // than failing a whole page of users here.
    name: o.name === undefined ? '' : str(o.name, 'name'),
    // Always sent (user/get and user/list alike): read as "in no department", an absent list
    // would make the person a leaver.
    dept_id_list: arr(o.dept_id_list, 'dept_id_list').map((d) => safeInt(d, 'dept_id_list entry')),
  };
  // DingTalk leaves a field out when the app may not read it or it is empty: keep it absent,
  // so the mapping never overwrites a WeCom value with a blank.
  for (const f of USER_TEXT_FIELDS) {
    const v = o[f];
    if (v !== undefined && v !== null) user[f] = str(v, f);
  }
  for (const f of USER_FLAGS) {
    const v = o[f];
    if (typeof v === 'boolean') user[f] = v;
  }
  if (o.dept_order_list !== undefined) {
    user.dept_order_list = arr(o.dept_order_list, 'dept_order_list').map((e) => {
      const entry = obj(e, 'dept_order_list entry');
      const order = orderOf(entry.order);
      if (order === undefined) throw new ShapeError('dept_order_list entry has no order');
      return { dept_id: safeInt(entry.dept_id, 'dept_order_list dept_id'), order };
    });
  }
  if (o.leader_in_dept !== undefined) {
    user.leader_in_dept = arr(o.leader_in_dept, 'leader_in_dept').map((e) => {
      const entry = obj(e, 'leader_in_dept entry');
      return { dept_id: safeInt(entry.dept_id, 'leader_in_dept dept_id'), leader: entry.leader === true };
    });
  }
  return user;
}

/**
 * A `v2/user/list` entry, as DingTalk documents it: the member's order and leadership in the
 * listed department only (`dept_order`, `leader`), turned into one entry each of `user/get`'s
 * `dept_order_list` and `leader_in_dept` (the reconcile merges a person's entries across
 * departments). A list item has no `manager_userid`, `dept_order_list` or `leader_in_dept`:
 * should an answer carry them anyway, they are not read, so that what the sync believes about a
 * listed person is only ever what DingTalk documents a listing to tell.
 */
function listedUserFrom(o: Obj, deptId: number): DingTalkUser {
  const { manager_userid: _m, dept_order_list: _o, leader_in_dept: _l, ...documented } = o;
  const user = userFrom(documented);
  const order = orderOf(o.dept_order);
  if (order !== undefined) user.dept_order_list = [{ dept_id: deptId, order }];
  if (typeof o.leader === 'boolean') user.leader_in_dept = [{ dept_id: deptId, leader: o.leader }];
  return user;
}

function deptFrom(o: Obj): DingTalkDept {
  const dept: DingTalkDept = {
    dept_id: safeInt(o.dept_id, 'dept_id'),
    name: o.name === undefined ? '' : str(o.name, 'name'),
  };
  // Every department but the root has a parent: read as "no parent", an absent one would put the
  // department outside the scope, and it would be emptied and deleted.
  if (o.parent_id !== undefined && o.parent_id !== null) dept.parent_id = safeInt(o.parent_id, 'parent_id');
  else if (dept.dept_id !== ROOT_DEPT_ID) throw new ShapeError(`department ${dept.dept_id} has no parent_id`);
  const order = orderOf(o.order);
  if (order !== undefined) dept.order = order;
  return dept;
}

/**
 * One `failed_list` record: `{call_back_tag, event_time, <data key>: {userid:[…] | deptid:[…], corpid}}`.
 * The data key is usually named after the tag but not reliably, so every object-valued field
 * (and one given as a JSON string) is searched for user and department id lists, in any of the
 * spellings DingTalk uses elsewhere (`userid`, `userId`, `UserId`, `userIdList`, `deptid`, `dept_id`, …).
 */
function failedPushFrom(rec: Obj): FailedPush {
  const userIds = new Set<string>();
  const deptIds = new Set<string>();
  let corpId = '';
  const scan = (o: Obj): void => {
    for (const [k, v] of Object.entries(o)) {
      const key = k.toLowerCase().replace(/_/g, '');
      if (key === 'userid' || key === 'useridlist') {
        for (const u of asList(v)) {
          if (typeof u === 'string' ? u !== '' : typeof u === 'number') userIds.add(String(u));
        }
      } else if (key === 'deptid' || key === 'deptidlist') {
        for (const d of asList(v)) {
          // Kept as exact decimal text (toPlain left any unsafe one as a string): nothing read
          // here may be lost, because DingTalk will not list this record again.
          const text = typeof d === 'number' && Number.isSafeInteger(d) ? String(d) : typeof d === 'string' ? d.trim() : '';
          if (/^\d+$/.test(text)) deptIds.add(text);
        }
      } else if (key === 'corpid' && typeof v === 'string' && corpId === '') {
        corpId = v;
      }
    }
  };
  scan(rec);
  for (const v of Object.values(rec)) {
    const data = isObj(v) ? v : jsonObjectIn(v);
    if (data) scan(data);
  }
  const rawTime = rec.event_time;
  const eventTime =
    typeof rawTime === 'number' && Number.isSafeInteger(rawTime)
      ? rawTime
      : typeof rawTime === 'string' && /^\d+$/.test(rawTime) && Number.isSafeInteger(Number(rawTime))
        ? Number(rawTime)
        : 0;
  return {
    eventType: typeof rec.call_back_tag === 'string' ? rec.call_back_tag : '',
    eventTime,
    corpId,
    userIds: [...userIds],
    deptIds: [...deptIds],
  };
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

/** A record field that holds its data as a JSON text rather than an object. */
function jsonObjectIn(v: unknown): Obj | undefined {
  if (typeof v !== 'string' || !v.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = parseAnswer(v);
    return isObj(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
