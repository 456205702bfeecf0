/**
 * A minimal stand-in for a DingTalk- or WeCom-style API on loopback, for the client tests: it
 * issues tokens from `gettoken`, rejects unknown tokens (40014 on both platforms) and answers
 * each API with what the test asks for. The full simulators live in lib/sandbox/; this one is
 * for client behaviours the simulators have no reason to produce (hangs, odd bodies, answer
 * shapes only some descriptions of an API give). Every test that needs such a server starts it
 * here, with `fakeDingTalkOptions` or `fakeWeComOptions` for the platform's conventions.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { PlatformError } from '../../lib/errors';
import { WECOM_ERR } from '../../lib/wecom/errors';

interface Seen {
  method: string;
  /** The full URL path, prefix included. */
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown> | undefined;
}
/** `raw` is sent as is, so a test can put numbers beyond 2^53 in the JSON text. */
export type Reply = { status?: number; json?: unknown; raw?: string } | 'hang';
export type Route = (req: Seen) => Reply;

export interface FakePlatformOptions {
  /** Path the APIs live under (WeCom: `/cgi-bin`; DingTalk: none). */
  prefix: string;
  /** gettoken's credential parameters and the values it accepts. */
  credentials: { idParam: string; secretParam: string; id: string; secret: string };
  /** What gettoken answers for other credentials. */
  badCredentials: { errcode: number; errmsg: string };
  /** What an API answers for a token the server did not issue (or has forgotten). */
  invalidToken: { errcode: number; errmsg: string };
  tokenPrefix: string;
  /** What an API the test gave no route for answers. */
  unrouted: Reply;
}

export interface FakePlatform {
  /** The server's origin: what `DINGTALK_API_BASE` / `WECOM_API_BASE` hold (the APIs are under `prefix`). */
  baseUrl: string;
  seen: Seen[];
  /** Requests to one API, named as the clients name it (`gettoken`, `user/update`, `topapi/v2/user/get`). */
  count(api: string): number;
  /** Tokens the server currently accepts. */
  valid: Set<string>;
  /** Answers per API name. */
  routes: Record<string, Route>;
  /** Replaces the token issuing when set. */
  gettoken?: Route;
  close(): Promise<void>;
}

let servers: Server[] = [];

export async function startFakePlatform(opts: FakePlatformOptions, routes: Record<string, Route> = {}): Promise<FakePlatform> {
  const seen: Seen[] = [];
  let issued = 0;
  const apiOf = (path: string) => path.slice(opts.prefix.length).replace(/^\//, '');
  const fake: Omit<FakePlatform, 'baseUrl' | 'close'> = {
    seen,
    count: (api) => seen.filter((s) => apiOf(s.path) === api).length,
    valid: new Set(),
    routes,
  };
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const s: Seen = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        body: data ? (JSON.parse(data) as Record<string, unknown>) : undefined,
      };
      seen.push(s);
      const api = apiOf(s.path);
      const { idParam, secretParam, id, secret } = opts.credentials;
      let reply: Reply;
      if (api === 'gettoken') {
        if (fake.gettoken) {
          reply = fake.gettoken(s);
        } else if (s.query.get(idParam) !== id || s.query.get(secretParam) !== secret) {
          reply = { json: opts.badCredentials };
        } else {
          const token = `${opts.tokenPrefix}${++issued}`;
          fake.valid.add(token);
          reply = { json: { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 } };
        }
      } else if (!fake.valid.has(s.query.get('access_token') ?? '')) {
        reply = { json: opts.invalidToken };
      } else {
        const route = fake.routes[api];
        reply = route ? route(s) : opts.unrouted;
      }
      if (reply === 'hang') return;
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
      res.end(reply.raw ?? JSON.stringify(reply.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, { baseUrl: `http://127.0.0.1:${port}`, close: () => stop(server) });
}

/** What DingTalk's gateway answers for a path that is no API. */
const NO_SUCH_API = 404;

/** DingTalk's conventions: APIs at the root, `appkey`/`appsecret`, Chinese errmsgs, `tok-N` tokens. */
export function fakeDingTalkOptions(appKey: string, appSecret: string): FakePlatformOptions {
  return {
    prefix: '',
    credentials: { idParam: 'appkey', secretParam: 'appsecret', id: appKey, secret: appSecret },
    badCredentials: { errcode: DINGTALK_ERR.badCredentials, errmsg: '不合法的appKey或appSecret' },
    invalidToken: { errcode: DINGTALK_ERR.invalidToken, errmsg: '不合法的access_token' },
    tokenPrefix: 'tok-',
    unrouted: { json: { errcode: NO_SUCH_API, errmsg: '请求的URI地址不存在' } },
  };
}

/** WeCom's conventions: APIs under `/cgi-bin`, `corpid`/`corpsecret`, `wx-tok-N` tokens; unrouted APIs succeed. */
export function fakeWeComOptions(corpId: string, secret: string): FakePlatformOptions {
  return {
    prefix: '/cgi-bin',
    credentials: { idParam: 'corpid', secretParam: 'corpsecret', id: corpId, secret },
    badCredentials: { errcode: WECOM_ERR.badSecret, errmsg: 'invalid credential, hint: [1700000000_1_abc]' },
    invalidToken: { errcode: WECOM_ERR.invalidToken, errmsg: 'invalid access_token' },
    tokenPrefix: 'wx-tok-',
    unrouted: { json: { errcode: 0, errmsg: 'ok' } },
  };
}

function stop(server: Server): Promise<void> {
  servers = servers.filter((s) => s !== server);
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Closes every fake still running (for afterEach). */
export async function stopFakePlatforms(): Promise<void> {
  await Promise.all([...servers].map(stop));
}

export function fakeClock(start = 1_700_000_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

/** The PlatformError a promise rejects with; anything else fails the test. */
export async function failure(p: Promise<unknown>): Promise<PlatformError> {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof PlatformError)) throw new Error(`expected a PlatformError, got ${String(e)}`);
  return e;
}
