/**
 * A DingTalk stand-in for tests and for `npm start` without credentials: the read APIs the sync
 * uses (platform/dingtalk.md §3) served over real HTTP on 127.0.0.1, an in-memory organisation,
 * and HR actions that push the matching contact event to a callback URL signed and encrypted
 * exactly as DingTalk does (§1, §2), with DingTalk's retries and failed-push list.
 *
 * Faithful where clients go wrong: `dept_order_list[].order` and department `order` are written
 * as raw JSON integers that may exceed 2^53; `user/list` pages with a cursor and refuses sizes
 * above 100; each `get_call_back_failed_result` call forgets what the previous call returned;
 * only an encrypted, signed `success` reply counts as delivered.
 *
 * Errcodes the documentation does not pin down (marked "assumed" below) use DingTalk's classic
 * WeChat-style codes; clients should only rely on the documented ones.
 */

import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LosslessNumber, stringify } from 'lossless-json';
import { decodeAesKey } from '../dingtalk/crypto';
import { DINGTALK_ERR } from '../dingtalk/errors';
import { judgeReply, signedRequest } from '../dingtalk/push';
import type { Clock, DingTalkDept, DingTalkUser } from '../ports';
import { objectBody, SandboxServer, type SimAnswer, SimError } from './http';
import { SequencedSet } from './sequenced-set';

export { generateOrg } from './org-generator';

const ERRMSG: Record<number, string> = {
  [-1]: '系统繁忙',
  40014: '不合法的access_token',
  40035: '不合法的参数',
  40089: '不合法的appKey或appSecret',
  42001: 'access_token超时',
  43001: '需要GET请求',
  43002: '需要POST请求',
  50002: '请求的员工userid不在授权范围内',
  50004: '请求的部门id不在授权范围内',
  60003: '部门不存在',
  60121: '找不到该用户',
  33012: '无效的USERID',
  90018: '当前请求过多，超过了每秒调用频率限制，请稍后重试',
};

/** DingTalk's cap on one `user/list` page and on one failed-push page. */
const MAX_PAGE_SIZE = 100;
const FAILED_PAGE_SIZE = 200;

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

/** Where HR actions are pushed, and the secrets DingTalk shares with that receiver. */
export interface CallbackTarget {
  url: string;
  token: string;
  /** The 43-character EncodingAESKey. */
  aesKey: string;
  /** Trailer of every encrypted frame: the AppKey (default), CorpId or suiteKey. */
  ownerKey?: string;
}

export interface MutationOptions {
  /** false: change the organisation without telling anyone, like a lost event. Default true. */
  push?: boolean;
  /** OptStaffId of the event; default the simulator's `optStaffId`. */
  optStaffId?: string;
}

export interface PushEventOptions {
  userIds?: string[];
  deptIds?: number[];
  optStaffId?: string;
  /** Send DeptId entries as numeric strings, which DingTalk also does. */
  deptIdsAsStrings?: boolean;
}

/** How one event's delivery ended, after any retries. */
export interface PushOutcome {
  eventType: string;
  userIds: string[];
  deptIds: number[];
  delivered: boolean;
  attempts: number;
  /** One line per failed attempt: what was wrong with the receiver's answer. */
  errors: string[];
}

export interface DingTalkSimulatorOptions {
  appKey?: string;
  appSecret?: string;
  corpId?: string;
  clock?: Clock;
  /** Token lifetime. Default 7200. */
  tokenTtlSeconds?: number;
  /** Per-API calls per second before 90018 (DingTalk: 20). Default: no limit, for local runs. */
  rateLimitPerSecond?: number;
  /** Errcode for a missing user: 60121 (what real clients see, default) or 33012 (the docs). */
  userNotFoundErrcode?: 60121 | 33012;
  /**
   * Wait before each retry of a failed push, counted from the previous attempt. Default
   * [10000, 20000]: retries at about +10 s and +30 s after the first push, as DingTalk does.
   */
  retryDelaysMs?: number[];
  /** How long a receiver may take to answer a push. Default 1500, DingTalk's documented deadline. */
  pushTimeoutMs?: number;
  /** OptStaffId of events pushed by HR actions. Default `manager0001`. */
  optStaffId?: string;
  /** Name of the root department (1). */
  rootName?: string;
  /** Fields left out of user answers, as when the app lacks the permission (e.g. `mobile`). */
  withheldFields?: (keyof DingTalkUser)[];
}

interface FailedPush {
  eventType: string;
  eventTime: number;
  userIds: string[];
  deptIds: number[];
}

export class DingTalkSimulator extends SandboxServer {
  readonly appKey: string;
  readonly appSecret: string;
  readonly corpId: string;
  /** When false, HR actions change the organisation but push nothing (lost events). */
  pushEnabled = true;
  /** See DingTalkSimulatorOptions; may be changed at any time. */
  retryDelaysMs: number[];
  pushTimeoutMs: number;
  userNotFoundErrcode: 60121 | 33012;
  withheldFields: (keyof DingTalkUser)[];
  optStaffId: string;
  /** Every finished push, in order of completion. */
  readonly pushes: PushOutcome[] = [];

  private readonly tokenTtlMs: number;
  private token: { value: string; expiresAt: number } | undefined;
  private readonly expiredTokens = new Set<string>();

  private readonly depts = new Map<number, DingTalkDept>();
  private readonly children = new Map<number, Set<number>>();
  private readonly users = new Map<string, DingTalkUser>();
  /** Direct members per department, in the order they joined: what `user/list` pages through. */
  private readonly members = new Map<number, SequencedSet<string>>();
  private readonly usersOutOfScope = new Set<string>();
  private readonly deptsOutOfScope = new Set<number>();
  private nextDeptId = 1000;
  private nextUserNo = 1;
  private nextOrder = 1;

  private callback: (CallbackTarget & { ownerKey: string }) | undefined;
  private readonly inFlight = new Set<Promise<PushOutcome>>();
  private readonly failed: FailedPush[] = [];
  /** How many records the previous failed-result call returned: the next call deletes them. */
  private failedReturned = 0;

  constructor(opts: DingTalkSimulatorOptions = {}) {
    super(
      '',
      { rateLimited: DINGTALK_ERR.rateLimited, badJson: DINGTALK_ERR.invalidParam, requireGet: DINGTALK_ERR.requireGet, requirePost: DINGTALK_ERR.requirePost },
      { clock: opts.clock, rateLimit: opts.rateLimitPerSecond ? { limit: opts.rateLimitPerSecond, windowMs: 1000 } : undefined },
    );
    this.appKey = opts.appKey ?? 'dingsandboxappkey';
    this.appSecret = opts.appSecret ?? 'sandbox-app-secret';
    this.corpId = opts.corpId ?? 'dingsandboxcorp0000000000000000';
    this.tokenTtlMs = (opts.tokenTtlSeconds ?? 7200) * 1000;
    this.userNotFoundErrcode = opts.userNotFoundErrcode ?? DINGTALK_ERR.userNotFound;
    this.retryDelaysMs = opts.retryDelaysMs ?? [10_000, 20_000];
    this.pushTimeoutMs = opts.pushTimeoutMs ?? 1500;
    this.optStaffId = opts.optStaffId ?? 'manager0001';
    this.withheldFields = opts.withheldFields ?? [];
    this.insertDept({ dept_id: 1, name: opts.rootName ?? '沙箱科技有限公司', order: '0' });
    this.registerRoutes();
  }

  // -------------------------------------------------------------------------------------------
  // HTTP APIs

  private registerRoutes(): void {
    this.route('gettoken', 'GET', ({ query }) => {
      if (query.get('appkey') !== this.appKey || query.get('appsecret') !== this.appSecret) {
        throw new SimError(DINGTALK_ERR.badCredentials);
      }
      const now = this.clock.now();
      if (!this.token || now >= this.token.expiresAt) {
        if (this.token) this.expiredTokens.add(this.token.value);
        this.token = { value: randomBytes(16).toString('hex'), expiresAt: now + this.tokenTtlMs };
      }
      // Re-fetching within validity returns the same token with the time it has left.
      return { access_token: this.token.value, expires_in: Math.ceil((this.token.expiresAt - now) / 1000) };
    });

    this.api('topapi/v2/user/get', 'POST', (body) => {
      const userid = body.userid;
      if (typeof userid !== 'string' || userid === '') throw new SimError(DINGTALK_ERR.invalidParam, '不合法的参数: userid');
      return { result: this.present(this.visibleUser(userid)) };
    });

    this.api('topapi/v2/department/get', 'POST', (body) => {
      const dept = this.visibleDept(intParam(body, 'dept_id'));
      const managers: string[] = [];
      for (const userid of this.members.get(dept.dept_id)!.values()) {
        if (this.users.get(userid)?.leader_in_dept?.some((l) => l.dept_id === dept.dept_id && l.leader)) managers.push(userid);
      }
      return {
        result: {
          dept_id: dept.dept_id,
          name: dept.name,
          ...(dept.parent_id !== undefined ? { parent_id: dept.parent_id } : {}),
          order: new LosslessNumber(dept.order ?? '0'),
          dept_manager_userid_list: managers,
        },
      };
    });

    this.api('topapi/v2/department/listsub', 'POST', (body) => {
      const parent = this.visibleDept(intParam(body, 'dept_id', 1));
      return { result: this.visibleChildren(parent.dept_id).map((d) => ({ dept_id: d.dept_id, name: d.name, parent_id: parent.dept_id })) };
    });

    this.api('topapi/v2/department/listsubid', 'POST', (body) => {
      const parent = this.visibleDept(intParam(body, 'dept_id', 1));
      return { result: { dept_id_list: this.visibleChildren(parent.dept_id).map((d) => d.dept_id) } };
    });

    this.api('topapi/v2/user/list', 'POST', (body) => {
      const dept = this.visibleDept(intParam(body, 'dept_id'));
      const cursor = intParam(body, 'cursor', 0);
      const size = intParam(body, 'size');
      if (size < 1 || size > MAX_PAGE_SIZE) throw new SimError(DINGTALK_ERR.invalidParam, `不合法的参数: size must be 1..${MAX_PAGE_SIZE}`);
      const list: Record<string, unknown>[] = [];
      let nextCursor: number | undefined;
      // The cursor is a join sequence, not an offset: members leaving between pages shift nobody.
      for (const { seq, key } of this.members.get(dept.dept_id)!.from(cursor)) {
        const user = this.users.get(key);
        if (!user || this.usersOutOfScope.has(key)) continue;
        if (list.length === size) {
          nextCursor = seq;
          break;
        }
        list.push(this.present(user));
      }
      return {
        result: { has_more: nextCursor !== undefined, ...(nextCursor !== undefined ? { next_cursor: nextCursor } : {}), list },
      };
    });

    this.api('topapi/user/listid', 'POST', (body) => {
      const dept = this.visibleDept(intParam(body, 'dept_id'));
      const ids = [...this.members.get(dept.dept_id)!.values()].filter((id) => !this.usersOutOfScope.has(id));
      return { result: { userid_list: ids } };
    });

    this.api('call_back/get_call_back_failed_result', 'GET', () => {
      // Each call forgets what the previous call returned (platform/dingtalk.md §1). New failures
      // are appended at the end, so the first `failedReturned` records are exactly those.
      this.failed.splice(0, this.failedReturned);
      const page = this.failed.slice(0, FAILED_PAGE_SIZE);
      this.failedReturned = page.length;
      return {
        has_more: this.failed.length > page.length,
        failed_list: page.map((f) => ({
          call_back_tag: f.eventType,
          event_time: f.eventTime,
          [f.eventType]: {
            ...(f.userIds.length > 0 ? { userid: f.userIds } : {}),
            ...(f.deptIds.length > 0 ? { deptid: f.deptIds } : {}),
            corpid: this.corpId,
          },
        })),
      };
    });
  }

  /** A route that needs `?access_token=`. */
  private api(path: string, method: 'GET' | 'POST', handle: (body: Record<string, unknown>) => SimAnswer): void {
    this.route(path, method, ({ query, body }) => {
      this.requireToken(query.get('access_token'));
      return handle(objectBody(body));
    });
  }

  private requireToken(token: string | null): void {
    if (!token) throw new SimError(DINGTALK_ERR.invalidToken);
    if (this.token?.value === token) {
      if (this.clock.now() < this.token.expiresAt) return;
      throw new SimError(DINGTALK_ERR.expiredToken);
    }
    throw new SimError(this.expiredTokens.has(token) ? DINGTALK_ERR.expiredToken : DINGTALK_ERR.invalidToken);
  }

  /** Ends the current token's validity now: the next call with it gets 42001. */
  expireTokens(): void {
    if (this.token) this.token.expiresAt = Math.min(this.token.expiresAt, this.clock.now());
  }

  protected override errmsgFor(errcode: number): string {
    return ERRMSG[errcode] ?? 'error';
  }

  protected override decorate(answer: SimAnswer): SimAnswer {
    return { ...answer, request_id: randomBytes(7).toString('hex').slice(0, 13) };
  }

  /** Writes LosslessNumber values as raw JSON integers, as DingTalk does with `order`. */
  protected override serialize(answer: SimAnswer): string {
    return stringify(answer) ?? '{}';
  }

  private visibleUser(userid: string): DingTalkUser {
    const user = this.users.get(userid);
    if (!user) throw new SimError(this.userNotFoundErrcode);
    if (this.usersOutOfScope.has(userid)) throw new SimError(DINGTALK_ERR.userOutOfScope);
    return user;
  }

  private visibleDept(deptId: number): DingTalkDept {
    const dept = this.depts.get(deptId);
    if (!dept) throw new SimError(DINGTALK_ERR.deptNotFound);
    if (this.deptsOutOfScope.has(deptId)) throw new SimError(DINGTALK_ERR.deptOutOfScope);
    return dept;
  }

  private visibleChildren(deptId: number): DingTalkDept[] {
    return [...this.children.get(deptId)!].filter((id) => !this.deptsOutOfScope.has(id)).map((id) => this.depts.get(id)!);
  }

  /** A user as the API shows it: withheld fields dropped, orders as raw integers. */
  private present(user: DingTalkUser): Record<string, unknown> {
    const out: Record<string, unknown> = { ...user };
    for (const field of this.withheldFields) delete out[field];
    if (user.dept_order_list && 'dept_order_list' in out) {
      out.dept_order_list = user.dept_order_list.map((e) => ({ dept_id: e.dept_id, order: new LosslessNumber(e.order) }));
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Organisation: seeding and inspection (no pushes)

  /**
   * Loads departments and users without pushing anything. Departments may come in any order
   * (parents are checked once all are in); a department with id 1 renames the root.
   */
  seed(org: { depts?: readonly DeptInput[]; users?: readonly UserInput[] }): void {
    const added: number[] = [];
    for (const input of org.depts ?? []) {
      if (input.dept_id === undefined) throw new Error('seed: every department needs a dept_id');
      if (input.dept_id === 1) {
        this.depts.get(1)!.name = checkName(input.name);
        continue;
      }
      if (this.depts.has(input.dept_id)) throw new Error(`seed: department ${input.dept_id} already exists`);
      this.insertDept({ dept_id: input.dept_id, name: checkName(input.name), parent_id: input.parent_id, order: toOrder(input.order ?? 0) });
      added.push(input.dept_id);
    }
    // Link children only now, so input order does not matter; then refuse cycles and orphans.
    for (const id of added) {
      const parent = this.depts.get(id)!.parent_id;
      if (parent === undefined || !this.depts.has(parent)) throw new Error(`seed: department ${id} has no existing parent (${parent})`);
      this.children.get(parent)!.add(id);
    }
    for (const id of added) this.depthOf(id);
    for (const input of org.users ?? []) this.insertUser(input);
  }

  /** A copy of the stored user, or undefined. */
  getUser(userid: string): DingTalkUser | undefined {
    const user = this.users.get(userid);
    return user && structuredClone(user);
  }

  getDept(deptId: number): DingTalkDept | undefined {
    const dept = this.depts.get(deptId);
    return dept && { ...dept };
  }

  listUsers(): DingTalkUser[] {
    return [...this.users.values()].map((u) => structuredClone(u));
  }

  listDepts(): DingTalkDept[] {
    return [...this.depts.values()].map((d) => ({ ...d }));
  }

  // -------------------------------------------------------------------------------------------
  // HR actions: change the organisation and push the event DingTalk would push

  addDept(input: DeptInput, opts?: MutationOptions): DingTalkDept {
    const id = input.dept_id ?? this.freeDeptId();
    if (this.depts.has(id)) throw new Error(`department ${id} already exists`);
    if (input.parent_id === undefined || !this.depts.has(input.parent_id)) throw new Error(`parent department ${input.parent_id} does not exist`);
    this.insertDept({ dept_id: id, name: checkName(input.name), parent_id: input.parent_id, order: toOrder(input.order ?? 0) });
    this.children.get(input.parent_id)!.add(id);
    this.announce('org_dept_create', { deptIds: [id] }, opts);
    return { ...this.depts.get(id)! };
  }

  /** Renames, reorders or moves (`parent_id`) a department. */
  updateDept(deptId: number, patch: { name?: string; parent_id?: number; order?: OrderInput }, opts?: MutationOptions): DingTalkDept {
    const dept = this.requireDept(deptId);
    if (patch.parent_id !== undefined && patch.parent_id !== dept.parent_id) {
      if (deptId === 1) throw new Error('the root department cannot move');
      if (!this.depts.has(patch.parent_id)) throw new Error(`parent department ${patch.parent_id} does not exist`);
      if (this.subtree(deptId).includes(patch.parent_id)) throw new Error(`moving ${deptId} under ${patch.parent_id} would make a cycle`);
      this.children.get(dept.parent_id!)!.delete(deptId);
      this.children.get(patch.parent_id)!.add(deptId);
      dept.parent_id = patch.parent_id;
    }
    if (patch.name !== undefined) dept.name = checkName(patch.name);
    if (patch.order !== undefined) dept.order = toOrder(patch.order);
    this.announce('org_dept_modify', { deptIds: [deptId] }, opts);
    return { ...dept };
  }

  /**
   * Deletes a department and everything below it, announced as one event with every id (as
   * DingTalk does for a cascade). Refuses while any of them has members, as DingTalk's console does.
   */
  removeDept(deptId: number, opts?: MutationOptions): number[] {
    const dept = this.requireDept(deptId);
    if (deptId === 1) throw new Error('the root department cannot be removed');
    const ids = this.subtree(deptId);
    const occupied = ids.find((id) => this.members.get(id)!.size > 0);
    if (occupied !== undefined) throw new Error(`department ${occupied} still has members`);
    this.children.get(dept.parent_id!)!.delete(deptId);
    for (const id of ids) {
      this.depts.delete(id);
      this.children.delete(id);
      this.members.delete(id);
      this.deptsOutOfScope.delete(id);
    }
    this.announce('org_dept_remove', { deptIds: ids }, opts);
    return ids;
  }

  addUser(input: UserInput, opts?: MutationOptions): DingTalkUser {
    const user = this.insertUser(input);
    this.announce('user_add_org', { userIds: [user.userid] }, opts);
    return structuredClone(user);
  }

  /**
   * Changes a user; a field set to undefined is cleared. A new `dept_id_list` moves the user:
   * orders and leader flags are kept for the departments that remain.
   */
  updateUser(userid: string, patch: Partial<Omit<UserInput, 'userid'>>, opts?: MutationOptions): DingTalkUser {
    const old = this.requireUser(userid);
    const next = normalizeUser(
      { ...old, ...patch, userid },
      (id) => this.depts.has(id),
      () => this.defaultOrder(),
    );
    for (const deptId of old.dept_id_list) if (!next.dept_id_list.includes(deptId)) this.members.get(deptId)!.delete(userid);
    for (const deptId of next.dept_id_list) this.members.get(deptId)!.add(userid);
    this.users.set(userid, next);
    this.announce('user_modify_org', { userIds: [userid] }, opts);
    return structuredClone(next);
  }

  /** The user leaves the company: reads now answer "not found". */
  removeUser(userid: string, opts?: MutationOptions): void {
    const user = this.requireUser(userid);
    for (const deptId of user.dept_id_list) this.members.get(deptId)!.delete(userid);
    this.users.delete(userid);
    this.usersOutOfScope.delete(userid);
    this.announce('user_leave_org', { userIds: [userid] }, opts);
  }

  /**
   * Takes a user out of (or back into) the app's visible scope: reads answer 50002 and lists
   * skip the user. Events still fire for such users, so this pushes `user_modify_org`.
   */
  setOutOfScope(userid: string, outOfScope = true, opts?: MutationOptions): void {
    this.requireUser(userid);
    if (outOfScope) this.usersOutOfScope.add(userid);
    else this.usersOutOfScope.delete(userid);
    this.announce('user_modify_org', { userIds: [userid] }, opts);
  }

  /** Same for a department: reads answer 50004 and `listsub` skips it. Pushes `org_dept_modify`. */
  setDeptOutOfScope(deptId: number, outOfScope = true, opts?: MutationOptions): void {
    this.requireDept(deptId);
    if (outOfScope) this.deptsOutOfScope.add(deptId);
    else this.deptsOutOfScope.delete(deptId);
    this.announce('org_dept_modify', { deptIds: [deptId] }, opts);
  }

  private insertDept(dept: DingTalkDept): void {
    this.depts.set(dept.dept_id, dept);
    this.children.set(dept.dept_id, new Set());
    this.members.set(dept.dept_id, new SequencedSet());
    if (dept.dept_id >= this.nextDeptId) this.nextDeptId = dept.dept_id + 1;
  }

  private insertUser(input: UserInput): DingTalkUser {
    const userid = input.userid ?? this.freeUserid();
    if (this.users.has(userid)) throw new Error(`user ${userid} already exists`);
    const user = normalizeUser(
      { ...input, userid },
      (id) => this.depts.has(id),
      () => this.defaultOrder(),
    );
    this.users.set(userid, user);
    for (const deptId of user.dept_id_list) this.members.get(deptId)!.add(userid);
    return user;
  }

  private requireDept(deptId: number): DingTalkDept {
    const dept = this.depts.get(deptId);
    if (!dept) throw new Error(`department ${deptId} does not exist`);
    return dept;
  }

  private requireUser(userid: string): DingTalkUser {
    const user = this.users.get(userid);
    if (!user) throw new Error(`user ${userid} does not exist`);
    return user;
  }

  /** The department and all its descendants, parents first. */
  private subtree(deptId: number): number[] {
    const out = [deptId];
    for (let i = 0; i < out.length; i++) out.push(...this.children.get(out[i]!)!);
    return out;
  }

  /** Depth of a department (root 1); throws on a cycle, which only a bad seed can create. */
  private depthOf(deptId: number): number {
    let depth = 1;
    for (let id = deptId; id !== 1; depth++) {
      id = this.depts.get(id)!.parent_id!;
      if (depth > this.depts.size) throw new Error(`seed: department ${deptId} is part of a cycle`);
    }
    return depth;
  }

  private freeDeptId(): number {
    while (this.depts.has(this.nextDeptId)) this.nextDeptId++;
    return this.nextDeptId++;
  }

  private freeUserid(): string {
    let id: string;
    do id = `sandbox${String(this.nextUserNo++).padStart(6, '0')}`;
    while (this.users.has(id));
    return id;
  }

  private defaultOrder(): string {
    return String(this.nextOrder++);
  }

  // -------------------------------------------------------------------------------------------
  // Callback pushes

  /** Where HR actions are pushed from now on; undefined stops pushing. */
  setCallback(target: CallbackTarget | undefined): void {
    if (!target) {
      this.callback = undefined;
      return;
    }
    decodeAesKey(target.aesKey); // a bad key fails here, not inside a background push
    this.callback = { ...target, ownerKey: target.ownerKey ?? this.appKey };
  }

  /**
   * Pushes one contact event (envelope A: `EventType`, `CorpId`, `UserId[]` / `DeptId[]`,
   * `OptStaffId`, `TimeStamp` as a string of ms) and resolves once it is delivered or, after
   * the retries, recorded in the failed list. Never rejects.
   */
  pushEvent(eventType: string, opts: PushEventOptions = {}): Promise<PushOutcome> {
    const userIds = opts.userIds ?? [];
    const deptIds = opts.deptIds ?? [];
    const eventTime = this.clock.now();
    const event: Record<string, unknown> = { EventType: eventType, CorpId: this.corpId };
    if (userIds.length > 0) event.UserId = userIds;
    if (deptIds.length > 0) event.DeptId = opts.deptIdsAsStrings ? deptIds.map(String) : deptIds;
    const optStaffId = opts.optStaffId ?? this.optStaffId;
    if (optStaffId) event.OptStaffId = optStaffId;
    event.TimeStamp = String(eventTime);
    return this.track(JSON.stringify(event), { eventType, eventTime, userIds, deptIds }, true);
  }

  /** Pushes the URL check DingTalk sends when the callback URL is saved (`{"EventType":"check_url"}`). */
  checkUrl(): Promise<PushOutcome> {
    return this.track(JSON.stringify({ EventType: 'check_url' }), { eventType: 'check_url', eventTime: this.clock.now(), userIds: [], deptIds: [] }, false);
  }

  /** Puts a record straight into the failed list, as if every push of it had failed. */
  recordFailedPush(eventType: string, opts: { userIds?: string[]; deptIds?: number[]; eventTime?: number } = {}): void {
    this.failed.push({ eventType, eventTime: opts.eventTime ?? this.clock.now(), userIds: opts.userIds ?? [], deptIds: opts.deptIds ?? [] });
  }

  /** Records in the failed list, including those the last failed-result call returned. */
  get failedBacklog(): number {
    return this.failed.length;
  }

  /** Resolves when every push in flight, retries included, has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private announce(eventType: string, ids: { userIds?: string[]; deptIds?: number[] }, opts: MutationOptions = {}): void {
    if (opts.push === false || !this.pushEnabled || !this.callback) return;
    // Fire and forget, as DingTalk does; idle() and `pushes` tell tests how it went.
    void this.pushEvent(eventType, { ...ids, optStaffId: opts.optStaffId });
  }

  private track(plaintext: string, event: FailedPush, listWhenFailed: boolean): Promise<PushOutcome> {
    const callback = this.callback;
    if (!callback) throw new Error('no callback configured: call setCallback first');
    const promise = this.deliver(callback, plaintext, event, listWhenFailed).finally(() => this.inFlight.delete(promise));
    this.inFlight.add(promise);
    return promise;
  }

  private async deliver(callback: CallbackTarget & { ownerKey: string }, plaintext: string, event: FailedPush, listWhenFailed: boolean): Promise<PushOutcome> {
    const signal = this.lifetime.signal;
    const errors: string[] = [];
    let delivered = false;
    for (let attempt = 0; ; attempt++) {
      const error = await this.attempt(callback, plaintext, signal);
      if (error === undefined) {
        delivered = true;
        break;
      }
      errors.push(error);
      const wait = this.retryDelaysMs[attempt];
      if (wait === undefined || signal.aborted) break;
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        break; // the simulator stopped
      }
    }
    // A stopped simulator is a DingTalk that went away, not one that gave up on the receiver.
    if (!delivered && listWhenFailed && !signal.aborted) this.failed.push(event);
    const outcome: PushOutcome = {
      eventType: event.eventType,
      userIds: event.userIds,
      deptIds: event.deptIds,
      delivered,
      attempts: errors.length + (delivered ? 1 : 0),
      errors,
    };
    this.pushes.push(outcome);
    return outcome;
  }

  /** One POST to the receiver; undefined when the reply is DingTalk's idea of success, else why not. */
  private async attempt(target: CallbackTarget & { ownerKey: string }, plaintext: string, lifetime: AbortSignal): Promise<string | undefined> {
    // A fresh timestamp and 8-character nonce per attempt, both signature names (lib/dingtalk/push).
    const { query, body } = signedRequest(plaintext, target, String(this.clock.now()));
    const url = new URL(target.url);
    for (const [k, v] of query) url.searchParams.set(k, v);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.any([lifetime, AbortSignal.timeout(this.pushTimeoutMs)]),
      });
      return judgeReply(res.status, await res.text(), target);
    } catch (e) {
      return `no answer: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
}

/** An integer parameter given as a JSON number or a numeric string; `dflt` makes it optional. */
function intParam(body: Record<string, unknown>, name: string, dflt?: number): number {
  const v = body[name];
  if (v === undefined || v === null) {
    if (dflt !== undefined) return dflt;
    throw new SimError(DINGTALK_ERR.invalidParam, `不合法的参数: ${name} is required`);
  }
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new SimError(DINGTALK_ERR.invalidParam, `不合法的参数: ${name}`);
  return n;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new Error('a name must be a non-empty string');
  return name;
}

/** Exact decimal string of an order, which may exceed 2^53. */
function toOrder(v: OrderInput): string {
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
function normalizeUser(input: UserInput & { userid: string }, deptExists: (id: number) => boolean, defaultOrder: () => string): DingTalkUser {
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
