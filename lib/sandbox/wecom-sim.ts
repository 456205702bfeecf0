/**
 * A WeCom stand-in for tests and for `npm start` without credentials: the contact APIs the sync
 * uses (platform/wecom.md) under `/cgi-bin/`, over real HTTP on 127.0.0.1, with an in-memory
 * directory that enforces WeCom's rules (wecom-rules.ts for the field formats; existence,
 * uniqueness and depth here).
 *
 * It also models what makes WeCom hard to sync to: the contact-sync secret may write but not
 * read details (48009), only trusted IPs may call (60020, switchable), a self-built app's secret
 * may not write (48002), 10,000 calls per minute per API (45009), and an administrator who edits
 * the directory by hand (`seedUser`, `removeUserByHand`, `moveDeptByHand`, … follow the same
 * rules as the API, as WeCom's console does).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import { objectBody, SandboxServer, type SimAnswer, SimError, type SimRequest } from './http';
import { SequencedSet } from './sequenced-set';
import {
  departmentListViolation,
  deptNameViolation,
  emailKey,
  emailViolation,
  MAX_BATCH_DELETE,
  MAX_DEPT_DEPTH,
  MAX_DIRECT_LEADERS,
  MAX_LIST_ID_LIMIT,
  mobileKey,
  mobileViolation,
  newDeptIdViolation,
  orderViolation,
  perDeptListViolation,
  positionViolation,
  ROOT_DEPT_ID,
  useridViolation,
  userNameViolation,
  type Violation,
  WECOM_ERRMSG,
} from './wecom-rules';

/** A department as WeCom stores it. */
export interface WeComSimDept {
  id: number;
  name: string;
  name_en?: string;
  /** 0 for the root. */
  parentid: number;
  order: number;
}

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

export interface WeComSimulatorOptions {
  corpId?: string;
  /** Secret of 管理工具 → 通讯录同步: may write contacts. */
  contactSecret?: string;
  /** Secret of a self-built app: valid for gettoken, refused on contact writes (48002). */
  appSecret?: string;
  clock?: Clock;
  /** Token lifetime. Default 7200. */
  tokenTtlSeconds?: number;
  /** Per-API calls per minute before 45009. Default 10,000 (WeCom's limit); null turns it off. */
  rateLimitPerMinute?: number | null;
  /** Name of the root department (1). Default `Company`. */
  rootName?: string;
}

type TokenKind = 'contact' | 'app';
/** read: ids-only lists the contact secret may call; write: changes; detail: reads it may not call. */
type Access = 'read' | 'write' | 'detail';

export class WeComSimulator extends SandboxServer {
  readonly corpId: string;
  readonly contactSecret: string;
  readonly appSecret: string;
  /** When true, contact APIs refuse callers not in `trustedIps` with 60020 (gettoken still works). */
  requireTrustedIp = false;
  readonly trustedIps = new Set<string>();
  /** Userids WeCom sent an invitation to (`to_invite` defaults to true on create). */
  readonly invited: string[] = [];

  private readonly tokenTtlMs: number;
  private readonly tokens = new Map<string, { kind: TokenKind; expiresAt: number }>();
  private readonly currentToken = new Map<TokenKind, string>();

  private readonly depts = new Map<number, WeComSimDept>();
  private readonly children = new Map<number, Set<number>>();
  private readonly members = new Map<number, Set<string>>();
  /** Keyed by the lower-cased userid: WeCom userids are unique ignoring case. */
  private readonly users = new Map<string, WeComSimUser>();
  /** Creation order of users: what `user/list_id`'s cursor walks. */
  private readonly userOrder = new SequencedSet<string>();
  private readonly mobiles = new Map<string, string>();
  private readonly emails = new Map<string, string>();
  private highestDeptId = ROOT_DEPT_ID;

  constructor(opts: WeComSimulatorOptions = {}) {
    const perMinute = opts.rateLimitPerMinute === undefined ? 10_000 : opts.rateLimitPerMinute;
    super(
      '/cgi-bin',
      { rateLimited: WECOM_ERR.rateLimited, badJson: WECOM_ERR.badJson, requireGet: WECOM_ERR.requireGet, requirePost: WECOM_ERR.requirePost },
      { clock: opts.clock, rateLimit: perMinute === null ? undefined : { limit: perMinute, windowMs: 60_000 } },
    );
    this.corpId = opts.corpId ?? 'wwsandbox00000000';
    this.contactSecret = opts.contactSecret ?? 'sandbox-contact-sync-secret';
    this.appSecret = opts.appSecret ?? 'sandbox-self-built-app-secret';
    this.tokenTtlMs = (opts.tokenTtlSeconds ?? 7200) * 1000;
    this.depts.set(ROOT_DEPT_ID, { id: ROOT_DEPT_ID, name: opts.rootName ?? 'Company', parentid: 0, order: 0 });
    this.children.set(ROOT_DEPT_ID, new Set());
    this.members.set(ROOT_DEPT_ID, new Set());
    this.registerRoutes();
  }

  /**
   * Starts listening on 127.0.0.1 and resolves to the origin, the value `WECOM_API_BASE` takes:
   * like WeCom's, the APIs are under `/cgi-bin/`, which the client adds itself.
   */
  override async start(port = 0): Promise<string> {
    return new URL(await super.start(port)).origin;
  }

  // -------------------------------------------------------------------------------------------
  // HTTP APIs

  private registerRoutes(): void {
    this.route('gettoken', 'GET', ({ query }) => {
      if (query.get('corpid') !== this.corpId) throw new SimError(WECOM_ERR.invalidCorpId);
      const secret = query.get('corpsecret');
      const kind: TokenKind | undefined = secret === this.contactSecret ? 'contact' : secret === this.appSecret ? 'app' : undefined;
      if (!kind) throw new SimError(WECOM_ERR.badSecret);
      const now = this.clock.now();
      let token = this.currentToken.get(kind);
      let entry = token === undefined ? undefined : this.tokens.get(token);
      if (token === undefined || !entry || now >= entry.expiresAt) {
        token = randomBytes(24).toString('base64url');
        entry = { kind, expiresAt: now + this.tokenTtlMs };
        this.tokens.set(token, entry);
        this.currentToken.set(kind, token);
      }
      return { access_token: token, expires_in: Math.ceil((entry.expiresAt - now) / 1000) };
    });

    this.contact('department/create', 'POST', 'write', ({ body }) => ({ errmsg: 'created', id: this.createDept(body) }));
    this.contact('department/update', 'POST', 'write', ({ body }) => {
      this.updateDept(body);
      return { errmsg: 'updated' };
    });
    this.contact('department/delete', 'GET', 'write', ({ query }) => {
      this.deleteDept(queryInt(query, 'id'));
      return { errmsg: 'deleted' };
    });
    this.contact('department/simplelist', 'GET', 'read', ({ query }) => {
      const root = query.has('id') ? queryInt(query, 'id') : ROOT_DEPT_ID;
      if (!this.depts.has(root)) throw new SimError(WECOM_ERR.deptNotFound);
      return { department_id: this.subtree(root).map((id) => ({ id, parentid: this.depts.get(id)!.parentid, order: this.depts.get(id)!.order })) };
    });
    this.contact('department/list', 'GET', 'detail', () => ({}));
    this.contact('department/get', 'GET', 'detail', () => ({}));

    this.contact('user/create', 'POST', 'write', ({ body }) => {
      this.createUser(body, true);
      return { errmsg: 'created' };
    });
    this.contact('user/update', 'POST', 'write', ({ body }) => {
      this.updateUser(body);
      return { errmsg: 'updated' };
    });
    this.contact('user/delete', 'GET', 'write', ({ query }) => {
      this.deleteUser(query.get('userid'));
      return { errmsg: 'deleted' };
    });
    this.contact('user/batchdelete', 'POST', 'write', ({ body }) => {
      this.batchDelete(objectBody(body).useridlist);
      return { errmsg: 'deleted' };
    });
    this.contact('user/list_id', 'POST', 'read', ({ body }) => this.listIds(objectBody(body)));
    this.contact('user/get', 'GET', 'detail', () => ({}));
    this.contact('user/list', 'GET', 'detail', () => ({}));
    this.contact('user/simplelist', 'GET', 'detail', () => ({}));
  }

  /** A contact API: token, then trusted IP, then what the token's secret may do. */
  private contact(api: string, method: 'GET' | 'POST', access: Access, handle: (req: SimRequest) => SimAnswer): void {
    this.route(api, method, (req) => {
      const kind = this.requireToken(req.query.get('access_token'));
      if (this.requireTrustedIp && !this.trustedIps.has(req.ip)) throw new SimError(WECOM_ERR.untrustedIp);
      if (access === 'detail') throw new SimError(WECOM_ERR.detailReadForbidden);
      if (access === 'write' && kind === 'app') throw new SimError(WECOM_ERR.apiForbidden);
      return handle(req);
    });
  }

  private requireToken(token: string | null): TokenKind {
    if (!token) throw new SimError(WECOM_ERR.missingToken);
    const entry = this.tokens.get(token);
    if (!entry) throw new SimError(WECOM_ERR.invalidToken);
    if (this.clock.now() >= entry.expiresAt) throw new SimError(WECOM_ERR.expiredToken);
    return entry.kind;
  }

  /** Ends every token's validity now (WeCom may expire tokens early): the next call gets 42001. */
  expireTokens(): void {
    const now = this.clock.now();
    for (const entry of this.tokens.values()) entry.expiresAt = Math.min(entry.expiresAt, now);
  }

  protected override errmsgFor(errcode: number): string {
    return WECOM_ERRMSG[errcode] ?? 'error';
  }

  /** WeCom appends a hint, the caller's IP and a help link to every error message. */
  protected override decorate(answer: SimAnswer, req: { ip: string }): SimAnswer {
    if (answer.errcode === 0 || typeof answer.errmsg !== 'string') return answer;
    const hint = `${Math.floor(this.clock.now() / 1000)}_${randomBytes(6).toString('hex')}`;
    const errmsg = `${answer.errmsg}, hint: [${hint}], from ip: ${req.ip}, more info at https://open.work.weixin.qq.com/devtool/query?e=${String(answer.errcode)}`;
    return { ...answer, errmsg };
  }

  // -------------------------------------------------------------------------------------------
  // Departments (shared by the API and the hand-edit helpers)

  private createDept(raw: unknown): number {
    const body = objectBody(raw);
    check(deptNameViolation(body.name));
    const name = body.name as string;
    const parentid = this.existingParent(body.parentid);
    let id: number;
    if (body.id !== undefined) {
      check(newDeptIdViolation(body.id));
      id = body.id as number;
      if (this.depts.has(id)) throw new SimError(WECOM_ERR.deptExists, `${WECOM_ERRMSG[WECOM_ERR.deptExists]}: id ${id}`);
    } else {
      id = this.freeDeptId();
    }
    this.checkSiblingName(parentid, name, undefined);
    if (this.depth(parentid) + 1 > MAX_DEPT_DEPTH) throw new SimError(WECOM_ERR.tooDeep);
    if (body.order !== undefined) check(orderViolation(body.order));
    const dept: WeComSimDept = { id, name, parentid, order: (body.order as number | undefined) ?? 0 };
    if (typeof body.name_en === 'string') dept.name_en = body.name_en;
    this.depts.set(id, dept);
    this.highestDeptId = Math.max(this.highestDeptId, id);
    this.children.set(id, new Set());
    this.members.set(id, new Set());
    this.children.get(parentid)!.add(id);
    return id;
  }

  /** Only the fields sent change; a new `parentid` moves the department with its subtree. */
  private updateDept(raw: unknown): void {
    const body = objectBody(raw);
    const dept = this.existingDept(body.id);
    if (body.name !== undefined) check(deptNameViolation(body.name));
    if (body.order !== undefined) check(orderViolation(body.order));
    const name = (body.name as string | undefined) ?? dept.name;
    let parentid = dept.parentid;
    if (body.parentid !== undefined && body.parentid !== dept.parentid) {
      if (dept.id === ROOT_DEPT_ID) throw new SimError(WECOM_ERR.rootDept);
      parentid = this.existingParent(body.parentid);
      const below = this.subtree(dept.id);
      if (below.includes(parentid)) throw new SimError(WECOM_ERR.deptCircular);
      if (this.depth(parentid) + this.height(dept.id) > MAX_DEPT_DEPTH) throw new SimError(WECOM_ERR.tooDeep);
    }
    if (name !== dept.name || parentid !== dept.parentid) this.checkSiblingName(parentid, name, dept.id);
    if (parentid !== dept.parentid) {
      this.children.get(dept.parentid)!.delete(dept.id);
      this.children.get(parentid)!.add(dept.id);
      dept.parentid = parentid;
    }
    dept.name = name;
    if (body.order !== undefined) dept.order = body.order as number;
    if (typeof body.name_en === 'string') dept.name_en = body.name_en;
  }

  private deleteDept(id: number): void {
    const dept = this.depts.get(id);
    if (!dept) throw new SimError(WECOM_ERR.deptNotFound);
    if (id === ROOT_DEPT_ID) throw new SimError(WECOM_ERR.rootDept);
    if (this.children.get(id)!.size > 0) throw new SimError(WECOM_ERR.deptHasChildren);
    if (this.members.get(id)!.size > 0) throw new SimError(WECOM_ERR.deptHasMembers);
    this.children.get(dept.parentid)!.delete(id);
    this.depts.delete(id);
    this.children.delete(id);
    this.members.delete(id);
  }

  private existingDept(id: unknown): WeComSimDept {
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new SimError(WECOM_ERR.invalidDeptId);
    const dept = this.depts.get(id);
    if (!dept) throw new SimError(WECOM_ERR.deptNotFound);
    return dept;
  }

  private existingParent(parentid: unknown): number {
    if (typeof parentid !== 'number' || !Number.isInteger(parentid) || parentid < 1) throw new SimError(WECOM_ERR.invalidParentId);
    if (!this.depts.has(parentid)) throw new SimError(WECOM_ERR.parentNotFound);
    return parentid;
  }

  private checkSiblingName(parentid: number, name: string, self: number | undefined): void {
    for (const sibling of this.children.get(parentid)!) {
      if (sibling !== self && this.depts.get(sibling)!.name === name) {
        throw new SimError(WECOM_ERR.deptExists, `${WECOM_ERRMSG[WECOM_ERR.deptExists]}: a sibling is already named ${name}`);
      }
    }
  }

  /** Level of a department, the root being 1. */
  private depth(id: number): number {
    let depth = 1;
    for (let d = this.depts.get(id)!; d.parentid !== 0; d = this.depts.get(d.parentid)!) depth++;
    return depth;
  }

  /** Levels in a subtree, the department itself counting 1. */
  private height(id: number): number {
    let tallest = 0;
    for (const child of this.children.get(id)!) tallest = Math.max(tallest, this.height(child));
    return tallest + 1;
  }

  /** The department and everything below it, parents first. */
  private subtree(id: number): number[] {
    const out = [id];
    for (let i = 0; i < out.length; i++) out.push(...this.children.get(out[i]!)!);
    return out;
  }

  /** WeCom hands out the next id above the highest one ever used. */
  private freeDeptId(): number {
    return this.highestDeptId + 1;
  }

  // -------------------------------------------------------------------------------------------
  // Users (shared by the API and the hand-edit helpers)

  private createUser(raw: unknown, viaApi: boolean): WeComSimUser {
    const body = objectBody(raw);
    check(useridViolation(body.userid));
    const userid = body.userid as string;
    if (this.users.has(userid.toLowerCase())) throw new SimError(WECOM_ERR.useridExists);
    const user = this.buildUser(body, undefined);
    this.store(user, undefined);
    if (viaApi && body.to_invite !== false) this.invited.push(user.userid);
    return user;
  }

  private updateUser(raw: unknown): WeComSimUser {
    const body = objectBody(raw);
    const old = this.existingUser(body.userid);
    const user = this.buildUser(body, old);
    this.store(user, old);
    return user;
  }

  /**
   * The stored member after applying `body` to `old` (undefined on create), validating every
   * field sent. `department` replaces the whole list; `order` and `is_leader_in_dept` reset with it.
   */
  private buildUser(body: Record<string, unknown>, old: WeComSimUser | undefined): WeComSimUser {
    const key = old?.userid.toLowerCase();
    if (!old || body.name !== undefined) check(userNameViolation(body.name));
    let department = old?.department ?? [];
    if (!old || body.department !== undefined) {
      check(departmentListViolation(body.department));
      department = body.department as number[];
      const missing = department.find((id) => !this.depts.has(id));
      if (missing !== undefined) throw new SimError(WECOM_ERR.invalidDeptId, `${WECOM_ERRMSG[WECOM_ERR.invalidDeptId]}: ${missing}`);
    }
    const replaced = body.department !== undefined;
    const perDept = (field: 'order' | 'is_leader_in_dept'): number[] => {
      if (body[field] !== undefined) {
        check(perDeptListViolation(field, body[field], department.length));
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
      check(field === 'mobile' ? mobileViolation(sent) : emailViolation(sent));
      const index = field === 'mobile' ? this.mobiles : this.emails;
      const owner = index.get(field === 'mobile' ? mobileKey(sent as string) : emailKey(sent as string));
      if (owner !== undefined && owner !== key) throw new SimError(field === 'mobile' ? WECOM_ERR.mobileExists : WECOM_ERR.emailExists);
      user[field] = sent as string;
    }
    if (user.mobile === undefined && user.email === undefined) throw new SimError(WECOM_ERR.mobileAndEmailEmpty);

    if (body.position !== undefined) {
      check(positionViolation(body.position));
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

  /** Writes a user and keeps the indexes (members, mobiles, emails, list order) in step. */
  private store(user: WeComSimUser, old: WeComSimUser | undefined): void {
    const key = user.userid.toLowerCase();
    if (old) this.unindex(old);
    this.users.set(key, user);
    this.userOrder.add(key);
    for (const d of user.department) this.members.get(d)!.add(key);
    if (user.mobile !== undefined) this.mobiles.set(mobileKey(user.mobile), key);
    if (user.email !== undefined) this.emails.set(emailKey(user.email), key);
  }

  private unindex(user: WeComSimUser): void {
    const key = user.userid.toLowerCase();
    for (const d of user.department) this.members.get(d)?.delete(key);
    if (user.mobile !== undefined) this.mobiles.delete(mobileKey(user.mobile));
    if (user.email !== undefined) this.emails.delete(emailKey(user.email));
  }

  private existingUser(userid: unknown): WeComSimUser {
    if (typeof userid !== 'string' || userid === '') throw new SimError(WECOM_ERR.invalidUserid);
    const user = this.users.get(userid.toLowerCase());
    if (!user) throw new SimError(WECOM_ERR.useridNotFound);
    return user;
  }

  private deleteUser(userid: unknown): void {
    const user = this.existingUser(userid);
    this.unindex(user);
    const key = user.userid.toLowerCase();
    this.users.delete(key);
    this.userOrder.delete(key);
  }

  /** All or nothing: one unknown userid and nobody is deleted. */
  private batchDelete(list: unknown): void {
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH_DELETE) {
      throw new SimError(WECOM_ERR.invalidParam, `invalid parameter: useridlist must hold 1-${MAX_BATCH_DELETE} userids`);
    }
    const users = list.map((userid) => {
      try {
        return this.existingUser(userid);
      } catch (e) {
        if (e instanceof SimError) throw new SimError(e.errcode, `${WECOM_ERRMSG[e.errcode] ?? 'error'}: ${String(userid)}`);
        throw e;
      }
    });
    for (const user of new Set(users)) this.deleteUser(user.userid);
  }

  /**
   * One row per member and department, whole members per page (a member's rows never straddle
   * two pages). The cursor names the next member by creation sequence, so members removed
   * between pages shift nobody.
   */
  private listIds(body: Record<string, unknown>): SimAnswer {
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

  // -------------------------------------------------------------------------------------------
  // Inspection and hand edits for tests (an administrator in WeCom's console)

  /** A copy of the stored member (userid matched ignoring case), or undefined. */
  getUser(userid: string): WeComSimUser | undefined {
    const user = this.users.get(userid.toLowerCase());
    return user && structuredClone(user);
  }

  getDept(id: number): WeComSimDept | undefined {
    const dept = this.depts.get(id);
    return dept && { ...dept };
  }

  /** Members in creation order. */
  listUsers(): WeComSimUser[] {
    return [...this.userOrder.values()].map((key) => structuredClone(this.users.get(key)!));
  }

  /** Departments, parents before children. */
  listDepts(): WeComSimDept[] {
    return this.subtree(ROOT_DEPT_ID).map((id) => ({ ...this.depts.get(id)! }));
  }

  /** Creates a department by hand; same rules as `department/create` (throws SimError). */
  seedDept(payload: { id?: number; name: string; parentid: number; order?: number; name_en?: string }): number {
    return this.createDept(payload);
  }

  /** Same rules as `department/update`. */
  updateDeptByHand(id: number, patch: { name?: string; parentid?: number; order?: number }): void {
    this.updateDept({ ...patch, id });
  }

  moveDeptByHand(id: number, parentid: number): void {
    this.updateDept({ id, parentid });
  }

  removeDeptByHand(id: number): void {
    this.deleteDept(id);
  }

  /** Creates a member by hand (no invitation is recorded); same rules as `user/create`. */
  seedUser(payload: Record<string, unknown> & { userid: string; name: string; department: number[] }): WeComSimUser {
    return structuredClone(this.createUser(payload, false));
  }

  updateUserByHand(userid: string, patch: Record<string, unknown>): WeComSimUser {
    return structuredClone(this.updateUser({ ...patch, userid }));
  }

  removeUserByHand(userid: string): void {
    this.deleteUser(userid);
  }
}

function check(v: Violation | undefined): void {
  if (v) throw new SimError(v.errcode, v.errmsg);
}

function queryInt(query: URLSearchParams, name: string): number {
  const raw = query.get(name);
  if (raw === null || !/^\d+$/.test(raw)) throw new SimError(WECOM_ERR.invalidDeptId, `${WECOM_ERRMSG[WECOM_ERR.invalidDeptId]}: ${name}`);
  return Number(raw);
}

function encodeCursor(seq: number): string {
  return Buffer.from(`sbx:${seq}`).toString('base64url');
}

function decodeCursor(cursor: unknown): number {
  const m = typeof cursor === 'string' ? /^sbx:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  if (!m) throw new SimError(WECOM_ERR.invalidParam, 'invalid parameter: cursor');
  return Number(m[1]);
}
