/**
 * What both sandbox simulators share: a real node:http server on 127.0.0.1, per-API call
 * counters, fault injection (a delay, and faults.ts: an errcode, an HTTP status, a dropped
 * connection, any HTTP 200 body, a rewritten answer, queued or picked by a fault policy) and a
 * fixed-window rate limiter. The two
 * platforms differ only in their routes, token rules, error codes and JSON encoding, which each
 * simulator supplies by extending `SandboxServer`.
 *
 * Request pipeline, in order: route lookup (unknown path → HTTP 404, not counted) → count the call
 * → read the body → configured delay → queued fault, else the fault policy's → rate limit → HTTP method → JSON body →
 * the route's handler → a queued rewrite of its answer. Faults come before everything else so a
 * test can inject any errcode, including the token and rate-limit ones, without arranging the
 * conditions that cause them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Clock, systemClock } from '../ports';
import { type AnswerObject, type FaultPolicy, FaultQueue } from './faults';

/** Thrown by route handlers (and hand-edit helpers) to answer with a platform errcode. */
export class SimError extends Error {
  override readonly name = 'SimError';
  constructor(
    readonly errcode: number,
    /** Omitted: the simulator's standard text for the errcode. */
    readonly errmsg?: string,
  ) {
    super(errmsg === undefined ? `errcode ${errcode}` : `errcode ${errcode}: ${errmsg}`);
  }
}

export interface SimRequest {
  /** Path below the base, e.g. `topapi/v2/user/get` or `user/create`. */
  api: string;
  query: URLSearchParams;
  /** Parsed JSON body of a POST; undefined for GET or an empty body. */
  body: unknown;
  /** Caller address without the IPv4-mapped prefix, e.g. `127.0.0.1`. */
  ip: string;
}

/** What a route returns on success: merged after `{errcode: 0, errmsg: 'ok'}`. */
export type SimAnswer = AnswerObject;

export interface Route {
  method: 'GET' | 'POST';
  handle(req: SimRequest): SimAnswer | Promise<SimAnswer>;
}

/** At most `limit` calls per API in each fixed window of `windowMs` on the simulator's clock. */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

/** The errcodes the shared pipeline itself answers with; both platforms use WeChat's 4300x family. */
export interface PipelineCodes {
  rateLimited: number;
  badJson: number;
  requireGet: number;
  requirePost: number;
}

/** A path no route serves: HTTP status and errcode alike, since neither platform has a code for it. */
const UNKNOWN_API = 404;

/** Bodies of real calls are a few KiB; anything this big is a client bug. */
const MAX_BODY_BYTES = 1024 * 1024;

export abstract class SandboxServer {
  /** Requests received per API (every request to a known path, including failed ones). */
  readonly calls: Record<string, number> = {};
  /** Of those, the ones refused by the rate limit (not injected faults), per API. */
  readonly throttled: Record<string, number> = {};
  protected readonly clock: Clock;
  private limit: RateLimit | undefined;
  private readonly routes = new Map<string, Route>();
  private readonly faults = new FaultQueue();
  private faultPolicy: FaultPolicy | undefined;
  private readonly delays = new Map<string, number>();
  private readonly windows = new Map<string, { start: number; count: number }>();
  private server: Server | undefined;
  private base: string | undefined;
  /** Aborted by stop(): ends delays and anything else waiting on the simulator's lifetime. */
  protected lifetime = new AbortController();

  constructor(
    /** '' for DingTalk (`/gettoken`), '/cgi-bin' for WeCom (`/cgi-bin/gettoken`). */
    private readonly basePath: string,
    private readonly codes: PipelineCodes,
    opts: { clock?: Clock; rateLimit?: RateLimit } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.limit = opts.rateLimit;
  }

  /** Standard errmsg for an errcode the platform documents. */
  protected abstract errmsgFor(errcode: number): string;

  /** Last touch on every JSON answer (DingTalk adds `request_id`, WeCom a hint to errmsg). */
  protected decorate(answer: SimAnswer, _req: { ip: string }): SimAnswer {
    return answer;
  }

  /** JSON text of an answer; DingTalk overrides it to write big integers raw. */
  protected serialize(answer: SimAnswer): string {
    return JSON.stringify(answer);
  }

  protected route(api: string, method: Route['method'], handle: Route['handle']): void {
    this.routes.set(api, { method, handle });
  }

  /** Starts listening on 127.0.0.1 and resolves to the base URL clients should use. */
  async start(port = 0): Promise<string> {
    if (this.server) throw new Error('simulator already started');
    if (this.lifetime.signal.aborted) this.lifetime = new AbortController();
    const server = createServer((req, res) => {
      this.onRequest(req, res).catch((e: unknown) => {
        // A bug in the simulator: answer 500 so the test sees it rather than hanging.
        if (!res.headersSent && !res.destroyed) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`sandbox error: ${e instanceof Error ? e.message : String(e)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${this.basePath}`;
    return this.base;
  }

  /** Closes the server, drops open connections (including delayed ones) and ends pending waits. */
  async stop(): Promise<void> {
    this.lifetime.abort();
    const server = this.server;
    this.server = undefined;
    this.base = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Base URL while started. */
  get url(): string {
    if (!this.base) throw new Error('simulator not started');
    return this.base;
  }

  /** The next `count` calls to `api` answer HTTP 200 with this errcode. */
  failNext(api: string, errcode: number, count = 1, errmsg?: string): void {
    this.faults.add(api, { kind: 'errcode', errcode, errmsg, remaining: count });
  }

  /** The next `count` calls to `api` answer with this HTTP status and a non-JSON body. */
  failNextHttp(api: string, status = 500, count = 1): void {
    this.faults.add(api, { kind: 'http', status, remaining: count });
  }

  /** The next `count` calls to `api` get their connection destroyed without an answer. */
  dropNext(api: string, count = 1): void {
    this.faults.add(api, { kind: 'drop', remaining: count });
  }

  /** The next `count` calls to `api` run (their change happens), then lose their answer: a timeout after the fact. */
  dropNextAfterApplying(api: string, count = 1): void {
    this.faults.add(api, { kind: 'dropAfter', remaining: count });
  }

  /** The next `count` calls to `api` answer HTTP 200 with exactly `text` (`'{}'`, `'null'`, …); the route does not run. */
  answerNext(api: string, text: string, count = 1): void {
    this.faults.add(api, { kind: 'answer', text, remaining: count });
  }

  /** The next `count` calls to `api` run as usual (their change happens) but answer what `rewrite` makes of the answer. */
  rewriteNext(api: string, rewrite: (answer: SimAnswer) => SimAnswer, count = 1): void {
    this.faults.add(api, { kind: 'rewrite', rewrite, remaining: count });
  }

  /**
   * From now on, every call no queued fault claims asks `policy` for one (random-faults.ts picks
   * them at a rate); undefined removes it. `clearFaults` removes it too.
   */
  setFaultPolicy(policy: FaultPolicy | undefined): void {
    this.faultPolicy = policy;
  }

  /** Every later call to `api` waits `ms` before being processed; 0 removes the delay. */
  delayMs(api: string, ms: number): void {
    if (ms > 0) this.delays.set(api, ms);
    else this.delays.delete(api);
  }

  /** Forgets queued faults, delays and the fault policy. */
  clearFaults(): void {
    this.faults.clear();
    this.delays.clear();
    this.faultPolicy = undefined;
  }

  resetCalls(): void {
    for (const api of Object.keys(this.calls)) delete this.calls[api];
    for (const api of Object.keys(this.throttled)) delete this.throttled[api];
  }

  /** The per-API limit in force, if any. */
  get rateLimit(): RateLimit | undefined {
    return this.limit && { ...this.limit };
  }

  /** Replaces the per-API limit; undefined turns limiting off. Counting restarts. */
  setRateLimit(limit: RateLimit | undefined): void {
    this.limit = limit;
    this.windows.clear();
  }

  private checkRateLimit(api: string): void {
    if (!this.limit) return;
    const { limit, windowMs } = this.limit;
    const start = Math.floor(this.clock.now() / windowMs) * windowMs;
    let window = this.windows.get(api);
    if (!window || window.start !== start) {
      window = { start, count: 0 };
      this.windows.set(api, window);
    }
    window.count++;
    if (window.count > limit) {
      this.throttled[api] = (this.throttled[api] ?? 0) + 1;
      throw new SimError(this.codes.rateLimited);
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const prefix = `${this.basePath}/`;
    const api = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : undefined;
    const route = api === undefined ? undefined : this.routes.get(api);
    if (api === undefined || !route) {
      res.writeHead(UNKNOWN_API, { 'content-type': 'application/json' }).end(JSON.stringify({ errcode: UNKNOWN_API, errmsg: 'not found' }));
      return;
    }
    this.calls[api] = (this.calls[api] ?? 0) + 1;
    const ip = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');

    const raw = await readBody(req);
    if (raw === undefined) {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('request body too large');
      return;
    }
    const delay = this.delays.get(api);
    if (delay !== undefined) {
      try {
        await sleep(delay, undefined, { signal: this.lifetime.signal });
      } catch {
        return; // stopped while waiting: the connection is already gone
      }
    }

    const fault = this.faults.take(api) ?? this.faultPolicy?.({ api, query: withoutToken(url.searchParams), body: raw });
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'http') {
      res.writeHead(fault.status, { 'content-type': 'text/html' }).end(`<html><body>${fault.status} (injected by sandbox)</body></html>`);
      return;
    }
    if (fault?.kind === 'answer') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(fault.text);
      return;
    }

    let answer: SimAnswer;
    try {
      if (fault?.kind === 'errcode') throw new SimError(fault.errcode, fault.errmsg);
      this.checkRateLimit(api);
      if (req.method !== route.method) {
        throw new SimError(route.method === 'GET' ? this.codes.requireGet : this.codes.requirePost);
      }
      let body: unknown;
      if (route.method === 'POST' && raw.trim() !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new SimError(this.codes.badJson);
        }
      }
      answer = { errcode: 0, errmsg: 'ok', ...(await route.handle({ api, query: url.searchParams, body, ip })) };
    } catch (e) {
      if (!(e instanceof SimError)) throw e;
      answer = { errcode: e.errcode, errmsg: e.errmsg ?? this.errmsgFor(e.errcode) };
    }
    if (res.destroyed) return;
    if (fault?.kind === 'dropAfter') {
      req.socket.destroy(); // the route has run: its change stays, its answer never arrives
      return;
    }
    const decorated = this.decorate(answer, { ip });
    const text = this.serialize(fault?.kind === 'rewrite' ? fault.rewrite(decorated) : decorated);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(text);
  }
}

/** The query a fault policy sees: the access token is no part of what a call is about. */
function withoutToken(query: URLSearchParams): URLSearchParams {
  const copy = new URLSearchParams(query);
  copy.delete('access_token');
  return copy;
}

/** The whole body as UTF-8, or undefined when it exceeds MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A plain JSON object body, or an empty one (handlers then report the missing fields). */
export function objectBody(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
