/**
 * DingTalk → WeCom field mapping. Pure: no I/O, no clock, no configuration lookups; everything a
 * function needs arrives in its arguments, so each rule is tested table by table.
 *
 * Each limit below is the one WeCom documents for the field (user/create, department/create):
 * a value beyond it fails the whole write, so it is bounded or refused here, with a reason.
 *
 * The order compression lives in order.ts, the payload hash in payload-hash.ts.
 */
import type { DingTalkDept, DingTalkUser, WeComDeptPayload, WeComUserPayload } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import { directLeaderFor } from './direct-leader';
import { MappingError } from './mapping-error';
import { boundedOrder, deptOrder } from './order';

export { MappingError };

/** DingTalk's root department. */
export const DINGTALK_ROOT_DEPT_ID = 1;
/** WeCom's root department (the company itself); DingTalk's root maps onto it. */
export const WECOM_ROOT_DEPT_ID = 1;

/**
 * Largest department id this sync asks WeCom for. WeCom documents the id as a "32-bit integer"
 * without saying whether it is signed; every DingTalk id seen so far is below 2^31, so staying in
 * the signed range costs nothing and cannot trip over a signed column on WeCom's side. Larger
 * DingTalk ids still sync: WeCom then assigns the id.
 */
const WECOM_MAX_DEPT_ID = 2 ** 31 - 1;

const WECOM_MAX_NAME_CHARS = 64;
const WECOM_MAX_POSITION_CHARS = 128;
const WECOM_MAX_MOBILE_CHARS = 32;
const WECOM_MAX_USER_DEPTS = 100;

// ---------------------------------------------------------------------------------------------
// Users

/** WeCom userid: 1-64 bytes of [0-9A-Za-z_-@.], the first a letter or digit (ASCII only, so bytes = characters). */
const WECOM_USERID = /^[0-9A-Za-z][0-9A-Za-z_\-@.]{0,63}$/;

export function isValidWeComUserId(id: string): boolean {
  return WECOM_USERID.test(id);
}

export interface UserMappingContext {
  /** The WeCom department id a DingTalk department maps to; undefined when not synced or out of scope. */
  wecomDeptId(dingDeptId: number): number | undefined;
  /** True when this DingTalk userid is already synced to WeCom (so it can be a direct leader). */
  isSyncedUser(userid: string): boolean;
  /** WECOM_TO_INVITE: whether WeCom sends an invitation when the user is created. */
  toInvite: boolean;
}

/**
 * The WeCom user that should exist for a DingTalk user.
 *
 * - `userid` is DingTalk's userid unchanged: it is immutable on both sides, so it is the identity
 *   that links them. (WeCom compares userids ignoring case; DingTalk ids that differ only in case
 *   would collide there, which the create call reports as 60102.)
 * - `position` and `telephone` are always sent, as "" when DingTalk has none, so that removing a
 *   title in DingTalk also removes it in WeCom (`user/update` only changes the fields it is sent).
 * - `mobile` and `email` are sent only when present: WeCom refuses to clear both (60129) and
 *   ignores a mobile the member has verified, so clearing them is not something a sync can do.
 * - `direct_leader` is always sent (`[]` when there is none or the manager is not synced yet), for
 *   the same reason as `position`; a later sync of the user fills it in once the manager exists.
 * - `department`, `order` and `is_leader_in_dept` are aligned index by index (60132 otherwise),
 *   keeping DingTalk's department order and dropping departments outside the sync.
 */
export function mapUser(user: DingTalkUser, ctx: UserMappingContext): WeComUserPayload {
  const userid = user.userid;
  if (!isValidWeComUserId(userid)) {
    throw new MappingError(
      'invalid_userid',
      `user ${JSON.stringify(userid)} cannot be created in WeCom: a WeCom userid is 1-64 characters of letters, digits, _ - @ . starting with a letter or digit, and cannot be changed later`,
    );
  }

  const name = boundChars(cleanText(user.name), WECOM_MAX_NAME_CHARS).trim();
  if (name === '') throw new MappingError('no_name', `user ${userid} has an empty name: WeCom requires 1-64 characters`);

  const mobile = weComMobile(user);
  const email = weComEmail(user);
  if (mobile === undefined && email === undefined) {
    throw new MappingError(
      'no_contact',
      `user ${userid} has neither mobile nor email: WeCom requires one (${WECOM_ERR.mobileAndEmailEmpty}); check the DingTalk app's phone-number and personal-info permissions`,
    );
  }

  const orders = new Map((user.dept_order_list ?? []).map((o) => [o.dept_id, o.order]));
  const leads = new Map((user.leader_in_dept ?? []).map((l) => [l.dept_id, l.leader]));
  const department: number[] = [];
  const order: number[] = [];
  const isLeader: number[] = [];
  for (const dingDeptId of user.dept_id_list) {
    const wecomId = ctx.wecomDeptId(dingDeptId);
    // Two DingTalk departments can never map to one WeCom department, but a repeated id can appear.
    if (wecomId === undefined || department.includes(wecomId)) continue;
    department.push(wecomId);
    const dingOrder = orders.get(dingDeptId);
    order.push(dingOrder === undefined ? 0 : userOrder(userid, dingDeptId, dingOrder));
    isLeader.push(leads.get(dingDeptId) ? 1 : 0);
  }
  if (department.length === 0) {
    throw new MappingError(
      'no_department',
      `user ${userid} is in no synced department (DingTalk departments: ${user.dept_id_list.join(', ') || 'none'}): WeCom requires at least one`,
    );
  }
  if (department.length > WECOM_MAX_USER_DEPTS) {
    throw new MappingError(
      'too_many_departments',
      `user ${userid} is in ${department.length} synced departments: WeCom allows at most ${WECOM_MAX_USER_DEPTS}`,
    );
  }

  const directLeader = directLeaderFor(user, (id) => ctx.isSyncedUser(id));

  const payload: WeComUserPayload = {
    userid,
    name,
    department,
    order,
    is_leader_in_dept: isLeader,
    position: boundChars(cleanText(user.title), WECOM_MAX_POSITION_CHARS).trim(),
    telephone: cleanText(user.telephone),
    direct_leader: directLeader,
    enable: 1,
    to_invite: ctx.toInvite,
  };
  if (mobile !== undefined) payload.mobile = mobile;
  if (email !== undefined) payload.email = email;
  return payload;
}

function userOrder(userid: string, deptId: number, order: string): number {
  try {
    return boundedOrder(order);
  } catch (e) {
    if (e instanceof MappingError) throw new MappingError(e.code, `user ${userid}, department ${deptId}: ${e.message}`);
    throw e;
  }
}

/**
 * WeCom's mobile format is `+<country code> <number>` (e.g. `+86 13800000000`), at most 32
 * characters of digits, `+`, `-` and that space.
 *
 * DingTalk gives the country code separately in `state_code` ("86" or "+86"), and may also put it
 * inside `mobile` in its older `+852-12345678` form; then the code written in the number wins,
 * because it was typed with the number. With neither, the number is taken as mainland Chinese
 * (86), which is what DingTalk assumes for a bare 11-digit mobile.
 */
export function weComMobile(user: Pick<DingTalkUser, 'userid' | 'mobile' | 'state_code'>): string | undefined {
  const raw = user.mobile?.trim();
  if (!raw) return undefined;
  // The message is stored as lastError and shown by `npm run status`: it names the field and
  // at most the country code, never the number.
  const invalid = (why: string): MappingError => new MappingError('invalid_mobile', `user ${user.userid} has a mobile that WeCom cannot take: ${why}`);

  const state = user.state_code?.trim().replace(/^\+/, '') || '86';
  let code: string;
  let number: string;
  const embedded = /^\+(\d{1,4})[-\s]+(.+)$/.exec(raw);
  if (embedded) {
    code = embedded[1]!;
    number = embedded[2]!;
  } else {
    if (!/^\d{1,4}$/.test(state)) throw invalid(`its country code ${JSON.stringify(user.state_code)} is not 1-4 digits`);
    code = state;
    // "+8613800000000": a leading + without separator can only be split at the known code.
    if (raw.startsWith('+')) {
      if (!raw.startsWith(`+${state}`)) throw invalid(`it starts with + but not with its country code +${state}`);
      number = raw.slice(state.length + 1);
    } else {
      number = raw;
    }
  }
  number = number.replace(/[\s()]/g, '');
  if (!/^\d[\d-]*$/.test(number)) throw invalid('a number may only contain digits and -');
  const mobile = `+${code} ${number}`;
  if (mobile.length > WECOM_MAX_MOBILE_CHARS) throw invalid(`with its country code it is longer than ${WECOM_MAX_MOBILE_CHARS} characters`);
  return mobile;
}

/** The address WeCom gets: the personal email, else the organisation's one; undefined when DingTalk gives neither. */
export function weComEmail(user: Pick<DingTalkUser, 'email' | 'org_email'>): string | undefined {
  return firstNonEmpty(user.email, user.org_email);
}

// ---------------------------------------------------------------------------------------------
// Departments

/**
 * Characters WeCom refuses in department names (60009). The ASCII set is documented; some
 * versions of the same page print the bar and the quotes as full-width / curly characters
 * (｜ ” “), so those are replaced too: replacing an allowed character only costs looks, sending a
 * refused one would fail the department and every member placed in it.
 *
 * They become '_' rather than full-width look-alikes (：＊？…) because look-alikes are exactly
 * what the ambiguous documentation might also refuse. Control characters (tabs, new lines)
 * become spaces.
 */
const FORBIDDEN_IN_DEPT_NAME = /[\\:*?"<>|｜“”]/gu;

/** The WeCom department that should exist for a DingTalk department under `parentWecomId`. */
export function mapDept(dept: DingTalkDept, parentWecomId: number, opts: { id?: number } = {}): WeComDeptPayload {
  const payload: WeComDeptPayload = { name: weComDeptName(dept), parentid: parentWecomId };
  if (opts.id !== undefined) payload.id = opts.id;
  if (dept.order !== undefined && dept.order.trim() !== '') {
    try {
      payload.order = deptOrder(dept.order);
    } catch (e) {
      if (e instanceof MappingError) throw new MappingError(e.code, `department ${dept.dept_id}: ${e.message}`);
      throw e;
    }
  }
  return payload;
}

/** Forbidden characters replaced, trimmed, at most 64 characters (code points); `dept-<id>` when nothing is left. */
export function weComDeptName(dept: Pick<DingTalkDept, 'dept_id' | 'name'>): string {
  const name = boundChars(cleanText(dept.name).replace(FORBIDDEN_IN_DEPT_NAME, '_'), WECOM_MAX_NAME_CHARS).trim();
  return name === '' ? `dept-${dept.dept_id}` : name;
}

/**
 * The id to request when creating the WeCom copy of a DingTalk department: the same id when
 * WeCom can take it (2 … WECOM_MAX_DEPT_ID), so the two directories line up for anyone reading
 * them; otherwise undefined and WeCom assigns one (recorded in the state store).
 *
 * The root is not "created": DingTalk's 1 is WeCom's 1 (WECOM_ROOT_DEPT_ID), and this returns
 * undefined for it.
 */
export function wecomDeptIdFor(dingDeptId: number): number | undefined {
  return Number.isSafeInteger(dingDeptId) && dingDeptId > WECOM_ROOT_DEPT_ID && dingDeptId <= WECOM_MAX_DEPT_ID ? dingDeptId : undefined;
}

// ---------------------------------------------------------------------------------------------
// Text helpers

/** Trimmed, control characters turned into spaces; '' for absent values. */
function cleanText(s: string | undefined): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return (s ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
}

/** At most `max` Unicode code points (WeCom counts characters, and a surrogate pair must not be cut). */
function boundChars(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : chars.slice(0, max).join('');
}

function firstNonEmpty(...values: (string | undefined)[]): string | undefined {
  for (const v of values) {
    const t = v?.trim();
    if (t) return t;
  }
  return undefined;
}
