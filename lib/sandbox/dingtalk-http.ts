/**
 * The DingTalk simulator's HTTP surface: the read APIs the sync uses (gettoken, user and
 * department reads, member lists, the failed-push list) over the organisation model, answering
 * as DingTalk does.
 *
 * Faithful where clients go wrong: `dept_order_list[].order` and department `order` are written
 * as raw JSON integers that may exceed 2^53; `user/list` pages with a cursor, refuses sizes
 * above 100 and answers list items, not `user/get` records (dingtalk-list-item.ts); a token re-fetched while valid is the same token; a superseded token answers
 * "expired", not "invalid".
 *
 * Errcodes the documentation does not pin down (marked "assumed" in lib/dingtalk/errors.ts) use
 * DingTalk's classic WeChat-style codes; clients should only rely on the documented ones.
 */
import { randomBytes } from 'node:crypto';
import { LosslessNumber, stringify } from 'lossless-json';
import { DINGTALK_ERR } from '../dingtalk/errors';
import type { Clock, DingTalkDept, DingTalkUser } from '../ports';
import { DINGTALK_ROOT_DEPT_ID } from '../sync/mapping';
import { FailedPushList } from './dingtalk-failed-pushes';
import { listItem } from './dingtalk-list-item';
import { DingTalkOrg } from './dingtalk-org';
import { objectBody, SandboxServer, type SimAnswer, SimError } from './http';

const ERRMSG: Record<number, string> = {
  [DINGTALK_ERR.systemBusy]: '系统繁忙',
  [DINGTALK_ERR.invalidToken]: '不合法的access_token',
  [DINGTALK_ERR.invalidParam]: '不合法的参数',
  [DINGTALK_ERR.badCredentials]: '不合法的appKey或appSecret',
  [DINGTALK_ERR.expiredToken]: 'access_token超时',
  [DINGTALK_ERR.requireGet]: '需要GET请求',
  [DINGTALK_ERR.requirePost]: '需要POST请求',
  [DINGTALK_ERR.userOutOfScope]: '请求的员工userid不在授权范围内',
  [DINGTALK_ERR.deptOutOfScope]: '请求的部门id不在授权范围内',
  [DINGTALK_ERR.deptNotFound]: '部门不存在',
  [DINGTALK_ERR.userNotFound]: '找不到该用户',
  [DINGTALK_ERR.userNotFoundDocumented]: '无效的USERID',
  [DINGTALK_ERR.rateLimited]: '当前请求过多，超过了每秒调用频率限制，请稍后重试',
};

/** DingTalk's cap on one `user/list` page. */
const MAX_PAGE_SIZE = 100;

/** Real clients see the first for a missing user; the documentation names the second. */
type UserNotFoundErrcode = typeof DINGTALK_ERR.userNotFound | typeof DINGTALK_ERR.userNotFoundDocumented;

export interface DingTalkHttpOptions {
  appKey?: string;
  appSecret?: string;
  corpId?: string;
  clock?: Clock;
  /** Token lifetime. Default 7200. */
  tokenTtlSeconds?: number;
  /** Per-API calls per second before 90018. Default 20 (DingTalk's limit); null turns it off. */
  rateLimitPerSecond?: number | null;
  /** Errcode for a missing user: 60121 (what real clients see, default) or 33012 (the docs). */
  userNotFoundErrcode?: UserNotFoundErrcode;
  /** Name of the root department (1). */
  rootName?: string;
  /** Fields left out of user answers, as when the app lacks the permission (e.g. `mobile`). */
  withheldFields?: (keyof DingTalkUser)[];
}

/** The APIs over an organisation; `DingTalkSimulator` adds the HR actions that change it. */
export abstract class DingTalkHttpApi extends SandboxServer {
  readonly appKey: string;
  readonly appSecret: string;
  readonly corpId: string;
  /** See DingTalkHttpOptions; may be changed at any time. */
  userNotFoundErrcode: UserNotFoundErrcode;
  withheldFields: (keyof DingTalkUser)[];

  protected readonly org: DingTalkOrg;
  protected readonly failedPushes = new FailedPushList();
  private readonly tokenTtlMs: number;
  private token: { value: string; expiresAt: number } | undefined;
  private readonly expiredTokens = new Set<string>();

  constructor(opts: DingTalkHttpOptions) {
    super(
      '',
      { rateLimited: DINGTALK_ERR.rateLimited, badJson: DINGTALK_ERR.invalidParam, requireGet: DINGTALK_ERR.requireGet, requirePost: DINGTALK_ERR.requirePost },
      { clock: opts.clock, rateLimit: opts.rateLimitPerSecond === null ? undefined : { limit: opts.rateLimitPerSecond ?? 20, windowMs: 1000 } },
    );
    this.appKey = opts.appKey ?? 'dingsandboxappkey';
    this.appSecret = opts.appSecret ?? 'sandbox-app-secret';
    this.corpId = opts.corpId ?? 'dingsandboxcorp0000000000000000';
    this.tokenTtlMs = (opts.tokenTtlSeconds ?? 7200) * 1000;
    this.userNotFoundErrcode = opts.userNotFoundErrcode ?? DINGTALK_ERR.userNotFound;
    this.withheldFields = opts.withheldFields ?? [];
    this.org = new DingTalkOrg(opts.rootName ?? '沙箱科技有限公司');
    this.registerRoutes();
  }

  /** Ends the current token's validity now: the next call with it gets 42001. */
  expireTokens(): void {
    if (this.token) this.token.expiresAt = Math.min(this.token.expiresAt, this.clock.now());
  }

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
      return {
        result: {
          dept_id: dept.dept_id,
          name: dept.name,
          ...(dept.parent_id !== undefined ? { parent_id: dept.parent_id } : {}),
          order: new LosslessNumber(dept.order ?? '0'),
          dept_manager_userid_list: this.org.managers(dept.dept_id),
        },
      };
    });

    this.api('topapi/v2/department/listsub', 'POST', (body) => {
      const parent = this.visibleDept(intParam(body, 'dept_id', DINGTALK_ROOT_DEPT_ID));
      return { result: this.org.visibleChildren(parent.dept_id).map((d) => ({ dept_id: d.dept_id, name: d.name, parent_id: parent.dept_id })) };
    });

    this.api('topapi/v2/department/listsubid', 'POST', (body) => {
      const parent = this.visibleDept(intParam(body, 'dept_id', DINGTALK_ROOT_DEPT_ID));
      return { result: { dept_id_list: this.org.visibleChildren(parent.dept_id).map((d) => d.dept_id) } };
    });

    this.api('topapi/v2/user/list', 'POST', (body) => {
      const dept = this.visibleDept(intParam(body, 'dept_id'));
      const cursor = intParam(body, 'cursor', 0);
      const size = intParam(body, 'size');
      if (size < 1 || size > MAX_PAGE_SIZE) throw new SimError(DINGTALK_ERR.invalidParam, `不合法的参数: size must be 1..${MAX_PAGE_SIZE}`);
      const list: Record<string, unknown>[] = [];
      let nextCursor: number | undefined;
      // The cursor is a join sequence, not an offset: members leaving between pages shift nobody.
      for (const { seq, user } of this.org.visibleMembers(dept.dept_id, cursor)) {
        if (list.length === size) {
          nextCursor = seq;
          break;
        }
        list.push(listItem(user, this.present(user), dept.dept_id));
      }
      return {
        result: { has_more: nextCursor !== undefined, ...(nextCursor !== undefined ? { next_cursor: nextCursor } : {}), list },
      };
    });

    this.api('topapi/user/listid', 'POST', (body) => {
      const dept = this.visibleDept(intParam(body, 'dept_id'));
      return { result: { userid_list: this.org.visibleMemberIds(dept.dept_id) } };
    });

    this.api('call_back/get_call_back_failed_result', 'GET', () => {
      const { page, hasMore } = this.failedPushes.read();
      return {
        has_more: hasMore,
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

  private visibleUser(userid: string): Readonly<DingTalkUser> {
    const user = this.org.findUser(userid);
    if (!user) throw new SimError(this.userNotFoundErrcode);
    if (this.org.isUserOutOfScope(userid)) throw new SimError(DINGTALK_ERR.userOutOfScope);
    return user;
  }

  private visibleDept(deptId: number): Readonly<DingTalkDept> {
    const dept = this.org.findDept(deptId);
    if (!dept) throw new SimError(DINGTALK_ERR.deptNotFound);
    if (this.org.isDeptOutOfScope(deptId)) throw new SimError(DINGTALK_ERR.deptOutOfScope);
    return dept;
  }

  /** A user as the API shows it: withheld fields dropped, orders as raw integers. */
  private present(user: Readonly<DingTalkUser>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...user };
    for (const field of this.withheldFields) delete out[field];
    if (user.dept_order_list && 'dept_order_list' in out) {
      out.dept_order_list = user.dept_order_list.map((e) => ({ dept_id: e.dept_id, order: new LosslessNumber(e.order) }));
    }
    return out;
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
