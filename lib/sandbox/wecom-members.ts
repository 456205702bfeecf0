/**
 * The WeCom simulator's members, with the rules WeCom enforces that need the whole directory:
 * userids unique ignoring case, mobiles unique across spellings, emails unique ignoring case,
 * departments and direct leaders that exist, and `user/list_id` paging. Field formats come from
 * wecom-rules.ts. Every refusal is a SimError with WeCom's errcode, so the API and the hand-edit
 * helpers answer alike.
 */
import { WECOM_ERR } from '../wecom/errors';
import { objectBody, type SimAnswer, SimError } from './http';
import { SequencedSet } from './sequenced-set';
import {
  departmentListViolation,
  emailKey,
  emailViolation,
  enforce,
  MAX_BATCH_DELETE,
  MAX_DIRECT_LEADERS,
  MAX_LIST_ID_LIMIT,
  mobileKey,
  mobileViolation,
  perDeptListViolation,
  positionViolation,
  useridViolation,
  userNameViolation,
  WECOM_ERRMSG,
} from './wecom-rules';

/** A member as WeCom stores it: what the contact-sync secret is not allowed to read back. */
export interface WeComSimUser {
  userid: string;
  name: string;
  department: number[];
  order: number[];
  is_leader_in_dept: number[];
  main_department: number;
  mobile?: string;
  email?: string;
  position?: string;
  telephone?: string;
  direct_leader: string[];
  enable: 0 | 1;
  gender?: string;
  alias?: string;
  extattr?: unknown;
}

export class WeComMembers {
  /** Keyed by the lower-cased userid: WeCom userids are unique ignoring case. */
  private readonly users = new Map<string, WeComSimUser>();
  /** Creation order of users: what `user/list_id`'s cursor walks. */
  private readonly userOrder = new SequencedSet<string>();
  private readonly byDept = new Map<number, Set<string>>();
  private readonly mobiles = new Map<string, string>();
  private readonly emails = new Map<string, string>();

  constructor(private readonly deptExists: (deptId: number) => boolean) {}

  /** Whether any member belongs to the department directly. */
  inDept(deptId: number): boolean {
    return (this.byDept.get(deptId)?.size ?? 0) > 0;
  }

  /** `user/create`: returns a copy of the stored member. */
  create(raw: unknown): WeComSimUser {
    const body = objectBody(raw);
    enforce(useridViolation(body.userid));
    const userid = body.userid as string;
    if (this.users.has(userid.toLowerCase())) throw new SimError(WECOM_ERR.useridExists);
    const user = this.build(body, undefined);
    this.store(user, undefined);
    return structuredClone(user);
  }

  /** `user/update`: the userid is matched ignoring case; returns a copy of the stored member. */
  update(raw: unknown): WeComSimUser {
    const body = objectBody(raw);
    const old = this.existing(body.userid);
    const user = this.build(body, old);
    this.store(user, old);
    return structuredClone(user);
  }

  /** `user/delete`. */
  delete(userid: unknown): void {
    const user = this.existing(userid);
    this.unindex(user);
    const key = user.userid.toLowerCase();
    this.users.delete(key);
    this.userOrder.delete(key);
  }

  /** `user/batchdelete`: all or nothing, one unknown userid and nobody is deleted. */
  batchDelete(list: unknown): void {
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH_DELETE) {
      throw new SimError(WECOM_ERR.invalidParam, `invalid parameter: useridlist must hold 1-${MAX_BATCH_DELETE} userids`);
    }
    const users = list.map((userid) => {
      try {
        return this.existing(userid);
      } catch (e) {
        if (e instanceof SimError) throw new SimError(e.errcode, `${WECOM_ERRMSG[e.errcode] ?? 'error'}: ${String(userid)}`);
        throw e;
      }
    });
    for (const user of new Set(users)) this.delete(user.userid);
  }

  /**
   * `user/list_id`: one row per member and department, whole members per page (a member's rows
   * never straddle two pages). The cursor names the next member by creation sequence, so members
   * removed between pages shift nobody.
   */
  listIds(body: Record<string, unknown>): SimAnswer {
    const limit = body.limit ?? MAX_LIST_ID_LIMIT;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_ID_LIMIT) {
      throw new SimError(WECOM_ERR.invalidParam, `invalid parameter: limit must be 1-${MAX_LIST_ID_LIMIT}`);
    }
    const from = body.cursor === undefined || body.cursor === '' ? 0 : decodeCursor(body.cursor);
    const rows: { userid: string; department: number }[] = [];
    let next: number | undefined;
    for (const { seq, key } of this.userOrder.from(from)) {
      const user = this.users.get(key)!;
      if (rows.length > 0 && rows.length + user.department.length > limit) {
        next = seq;
        break;
      }
      for (const department of user.department) rows.push({ userid: user.userid, department });
    }
    return { next_cursor: next === undefined ? '' : encodeCursor(next), dept_user: rows };
  }

  /** A copy of the stored member (userid matched ignoring case), or undefined. */
  get(userid: string): WeComSimUser | undefined {
    const user = this.users.get(userid.toLowerCase());
    return user && structuredClone(user);
  }

  /** Copies of every member, in creation order. */
  list(): WeComSimUser[] {
    return [...this.userOrder.values()].map((key) => structuredClone(this.users.get(key)!));
  }

  /**
   * The stored member after applying `body` to `old` (undefined on create), validating every
   * field sent. `department` replaces the whole list; `order` and `is_leader_in_dept` reset with it.
   */
  private build(body: Record<string, unknown>, old: WeComSimUser | undefined): WeComSimUser {
    const key = old?.userid.toLowerCase();
    if (!old || body.name !== undefined) enforce(userNameViolation(body.name));
    let department = old?.department ?? [];
    if (!old || body.department !== undefined) {
      enforce(departmentListViolation(body.department));
      department = body.department as number[];
      const missing = department.find((id) => !this.deptExists(id));
      if (missing !== undefined) throw new SimError(WECOM_ERR.invalidDeptId, `${WECOM_ERRMSG[WECOM_ERR.invalidDeptId]}: ${missing}`);
    }
    const replaced = body.department !== undefined;
    const perDept = (field: 'order' | 'is_leader_in_dept'): number[] => {
      if (body[field] !== undefined) {
        enforce(perDeptListViolation(field, body[field], department.length));
        return [...(body[field] as number[])];
      }
      return old && !replaced ? [...old[field]] : department.map(() => 0);
    };
    const user: WeComSimUser = {
      userid: old?.userid ?? (body.userid as string),
      name: (body.name as string | undefined) ?? old!.name,
      department: [...department],
      order: perDept('order'),
      is_leader_in_dept: perDept('is_leader_in_dept'),
      main_department: department[0]!,
      direct_leader: old?.direct_leader ?? [],
      enable: old?.enable ?? 1,
    };
    if (body.main_department !== undefined) {
      if (!department.includes(body.main_department as number))
        throw new SimError(WECOM_ERR.invalidParam, 'invalid parameter: main_department must be one of department');
      user.main_department = body.main_department as number;
    } else if (old && department.includes(old.main_department)) {
      user.main_department = old.main_department;
    }

    // mobile and email: '' clears; both may not end up empty.
    for (const field of ['mobile', 'email'] as const) {
      const sent = body[field];
      if (sent === undefined) {
        if (old?.[field] !== undefined) user[field] = old[field];
        continue;
      }
      if (sent === '') continue;
      enforce(field === 'mobile' ? mobileViolation(sent) : emailViolation(sent));
      const index = field === 'mobile' ? this.mobiles : this.emails;
      const owner = index.get(field === 'mobile' ? mobileKey(sent as string) : emailKey(sent as string));
      if (owner !== undefined && owner !== key) throw new SimError(field === 'mobile' ? WECOM_ERR.mobileExists : WECOM_ERR.emailExists);
      user[field] = sent as string;
    }
    if (user.mobile === undefined && user.email === undefined) throw new SimError(WECOM_ERR.mobileAndEmailEmpty);

    if (body.position !== undefined) {
      enforce(positionViolation(body.position));
      if (body.position !== '') user.position = body.position as string;
    } else if (old?.position !== undefined) user.position = old.position;
    if (body.direct_leader !== undefined) user.direct_leader = this.directLeaders(body.direct_leader);
    if (body.enable !== undefined) {
      if (body.enable !== 0 && body.enable !== 1) throw new SimError(WECOM_ERR.invalidParam, 'invalid parameter: enable must be 0 or 1');
      user.enable = body.enable;
    }
    for (const field of ['telephone', 'gender', 'alias'] as const) {
      const v = body[field] ?? old?.[field];
      if (v !== undefined && v !== '') user[field] = String(v);
    }
    const extattr = body.extattr ?? old?.extattr;
    if (extattr !== undefined) user.extattr = structuredClone(extattr);
    return user;
  }

  /** At most 5 existing members, stored with their own spelling of the userid. */
  private directLeaders(list: unknown): string[] {
    if (!Array.isArray(list) || list.length > MAX_DIRECT_LEADERS || !list.every((v) => typeof v === 'string')) {
      throw new SimError(WECOM_ERR.invalidParam, `invalid parameter: direct_leader must list at most ${MAX_DIRECT_LEADERS} userids`);
    }
    return (list as string[]).map((leader) => {
      const found = this.users.get(leader.toLowerCase());
      if (!found) throw new SimError(WECOM_ERR.invalidParam, `invalid parameter: direct_leader ${leader} is not a member`);
      return found.userid;
    });
  }

  /** Writes a user and keeps the indexes (departments, mobiles, emails, list order) in step. */
  private store(user: WeComSimUser, old: WeComSimUser | undefined): void {
    const key = user.userid.toLowerCase();
    if (old) this.unindex(old);
    this.users.set(key, user);
    this.userOrder.add(key);
    for (const d of user.department) {
      const members = this.byDept.get(d) ?? new Set();
      members.add(key);
      this.byDept.set(d, members);
    }
    if (user.mobile !== undefined) this.mobiles.set(mobileKey(user.mobile), key);
    if (user.email !== undefined) this.emails.set(emailKey(user.email), key);
  }

  private unindex(user: WeComSimUser): void {
    const key = user.userid.toLowerCase();
    for (const d of user.department) {
      const members = this.byDept.get(d);
      members?.delete(key);
      if (members?.size === 0) this.byDept.delete(d);
    }
    if (user.mobile !== undefined) this.mobiles.delete(mobileKey(user.mobile));
    if (user.email !== undefined) this.emails.delete(emailKey(user.email));
  }

  private existing(userid: unknown): WeComSimUser {
    if (typeof userid !== 'string' || userid === '') throw new SimError(WECOM_ERR.invalidUserid);
    const user = this.users.get(userid.toLowerCase());
    if (!user) throw new SimError(WECOM_ERR.useridNotFound);
    return user;
  }
}

function encodeCursor(seq: number): string {
  return Buffer.from(`sbx:${seq}`).toString('base64url');
}

function decodeCursor(cursor: unknown): number {
  const m = typeof cursor === 'string' ? /^sbx:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  if (!m) throw new SimError(WECOM_ERR.invalidParam, 'invalid parameter: cursor');
  return Number(m[1]);
}
