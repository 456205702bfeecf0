/**
 * A WeCom stand-in for tests and for `npm start` without credentials: the contact APIs the sync
 * uses (gettoken, department create/update/delete/simplelist, user create/update/delete/
 * batchdelete/list_id) under `/cgi-bin/`, over real HTTP on 127.0.0.1, over an in-memory
 * directory that enforces WeCom's rules (wecom-departments.ts, wecom-members.ts, with the field
 * formats in wecom-rules.ts). This file is the HTTP surface: tokens, who may call what, routes.
 *
 * It also models what makes WeCom hard to sync to: the contact-sync secret may write but not
 * read details (48009), only trusted IPs may call (60020, switchable), a self-built app's secret
 * may not write nor list member ids (48002: `user/list_id` is for the contact-sync secret only), 10,000 calls per minute per API (45009), and an administrator who edits
 * the directory by hand (`seedUser`, `removeUserByHand`, `moveDeptByHand`, … follow the same
 * rules as the API, as WeCom's console does).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../ports';
import { WECOM_ROOT_DEPT_ID } from '../sync/mapping';
import { WECOM_ERR } from '../wecom/errors';
import { objectBody, SandboxServer, type SimAnswer, SimError, type SimRequest } from './http';
import { WeComDepartments, type WeComSimDept } from './wecom-departments';
import { WeComMembers, type WeComSimUser } from './wecom-members';
import { WECOM_ERRMSG } from './wecom-rules';

export type { WeComSimDept, WeComSimUser };

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
/**
 * read: ids-only lists the contact secret may call; contact: one of those that only the
 * contact-sync secret may call (`user/list_id`); write: changes; detail: reads it may not call.
 */
type Access = 'read' | 'contact' | 'write' | 'detail';

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

  private readonly members: WeComMembers;
  private readonly depts: WeComDepartments;

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
    // Each half of the directory asks the other: members need existing departments, and a
    // department with members cannot be deleted.
    this.members = new WeComMembers((id) => this.depts.has(id));
    this.depts = new WeComDepartments(opts.rootName ?? 'Company', (id) => this.members.inDept(id));
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

    this.contact('department/create', 'POST', 'write', ({ body }) => ({ errmsg: 'created', id: this.depts.create(body) }));
    this.contact('department/update', 'POST', 'write', ({ body }) => {
      this.depts.update(body);
      return { errmsg: 'updated' };
    });
    this.contact('department/delete', 'GET', 'write', ({ query }) => {
      this.depts.delete(queryInt(query, 'id'));
      return { errmsg: 'deleted' };
    });
    this.contact('department/simplelist', 'GET', 'read', ({ query }) => {
      const root = query.has('id') ? queryInt(query, 'id') : WECOM_ROOT_DEPT_ID;
      return { department_id: this.depts.simpleList(root) };
    });
    this.contact('department/list', 'GET', 'detail', () => ({}));
    this.contact('department/get', 'GET', 'detail', () => ({}));

    this.contact('user/create', 'POST', 'write', ({ body }) => {
      const user = this.members.create(body);
      if (objectBody(body).to_invite !== false) this.invited.push(user.userid);
      return { errmsg: 'created' };
    });
    this.contact('user/update', 'POST', 'write', ({ body }) => {
      this.members.update(body);
      return { errmsg: 'updated' };
    });
    this.contact('user/delete', 'GET', 'write', ({ query }) => {
      this.members.delete(query.get('userid'));
      return { errmsg: 'deleted' };
    });
    this.contact('user/batchdelete', 'POST', 'write', ({ body }) => {
      this.members.batchDelete(objectBody(body).useridlist);
      return { errmsg: 'deleted' };
    });
    this.contact('user/list_id', 'POST', 'contact', ({ body }) => this.members.listIds(objectBody(body)));
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
      if ((access === 'write' || access === 'contact') && kind === 'app') throw new SimError(WECOM_ERR.apiForbidden);
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
  // Inspection and hand edits for tests (an administrator in WeCom's console)

  /** A copy of the stored member (userid matched ignoring case), or undefined. */
  getUser(userid: string): WeComSimUser | undefined {
    return this.members.get(userid);
  }

  /** A copy of the stored department, or undefined. */
  getDept(id: number): WeComSimDept | undefined {
    return this.depts.get(id);
  }

  /** Members in creation order. */
  listUsers(): WeComSimUser[] {
    return this.members.list();
  }

  /** Departments, parents before children. */
  listDepts(): WeComSimDept[] {
    return this.depts.list();
  }

  /** Creates a department by hand; same rules as `department/create` (throws SimError). */
  seedDept(payload: { id?: number; name: string; parentid: number; order?: number; name_en?: string }): number {
    return this.depts.create(payload);
  }

  /** Same rules as `department/update`. */
  updateDeptByHand(id: number, patch: { name?: string; parentid?: number; order?: number }): void {
    this.depts.update({ ...patch, id });
  }

  /** Moves a department with its subtree; same rules as `department/update`. */
  moveDeptByHand(id: number, parentid: number): void {
    this.depts.update({ id, parentid });
  }

  /** Same rules as `department/delete`. */
  removeDeptByHand(id: number): void {
    this.depts.delete(id);
  }

  /** Creates a member by hand (no invitation is recorded); same rules as `user/create`. */
  seedUser(payload: Record<string, unknown> & { userid: string; name: string; department: number[] }): WeComSimUser {
    return this.members.create(payload);
  }

  /** Same rules as `user/update`. */
  updateUserByHand(userid: string, patch: Record<string, unknown>): WeComSimUser {
    return this.members.update({ ...patch, userid });
  }

  /** Same rules as `user/delete`. */
  removeUserByHand(userid: string): void {
    this.members.delete(userid);
  }
}

/** A numeric query parameter (`department/delete`, `department/simplelist` take ids so). */
function queryInt(query: URLSearchParams, name: string): number {
  const raw = query.get(name);
  if (raw === null || !/^\d+$/.test(raw)) throw new SimError(WECOM_ERR.invalidDeptId, `${WECOM_ERRMSG[WECOM_ERR.invalidDeptId]}: ${name}`);
  return Number(raw);
}
