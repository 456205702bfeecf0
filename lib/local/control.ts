/**
 * `npm start`'s control routes, for `npm run doctor` and `npm run first-import` without
 * `--stage`: the running service's status (queue, dead letters, latest reconcile report, the
 * callback URL and, in sandbox mode only, the simulators' settings) and a reconcile run inside
 * the process, against its own embedded store, with progress.
 *
 * The server listens on loopback, but a tunnel to DingTalk could still forward to it, so every
 * control route wants the bearer token that `npm start` writes, with its URL, to a file only its
 * user can read (`npm-start.json` beside STATE_FILE); the commands find the server through it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { LocalService } from '../compose/local';
import type { RunReport } from '../ports';
import { type PlanSummary, summarisePlan } from '../sync/plan-table';
import { runReconcile } from '../sync/reconcile';
import type { HttpApiHandler, Route } from './dev-server';

/** Where `npm start` says how to reach it. */
export interface ControlFile {
  url: string;
  token: string;
  pid: number;
}

/** The control file of the `npm start` that uses this STATE_FILE. */
export function controlFilePath(stateFile: string): string {
  return join(dirname(stateFile), 'npm-start.json');
}

export function writeControlFile(path: string, info: ControlFile): void {
  mkdirSync(dirname(path), { recursive: true });
  // `mode` applies only when the file is created: a file already there (a stale one, or one made
  // under another umask) keeps its permissions. Removing it first means the token is never
  // written into a wider file; the chmod covers a umask that narrowed the create.
  rmSync(path, { force: true });
  writeFileSync(path, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function readControlFile(path: string): ControlFile | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<ControlFile>;
    return typeof v.url === 'string' && typeof v.token === 'string' && typeof v.pid === 'number' ? (v as ControlFile) : undefined;
  } catch {
    return undefined;
  }
}

export function removeControlFile(path: string): void {
  rmSync(path, { force: true });
}

export const newControlToken = (): string => randomBytes(24).toString('base64url');

/** A reconcile started through the control routes: where it is, and how it ended. */
export interface LocalRunState {
  running: boolean;
  runId?: string;
  dryRun?: boolean;
  progress?: { phase: string; done: number; total: number };
  result?: { report: RunReport; plan?: PlanSummary };
  error?: string;
}

export interface LocalStatus {
  sandbox: boolean;
  callbackUrl: string;
  /** CALLBACK_MAX_SKEW_SECONDS of the running callback. */
  maxSkewSeconds: number;
  queue: { depth: number; deadLetters: number } | null;
  latestReport?: RunReport;
  /** Sandbox only: the settings `npm start` gave itself (they open nothing real). */
  settings?: Record<string, string>;
}

export function controlRoutes(service: LocalService, opts: { token: string; callbackUrl: string }): Route[] {
  let run: LocalRunState = { running: false };
  const guarded =
    (handle: (event: APIGatewayProxyEventV2) => Promise<{ status: number; body: unknown }>): HttpApiHandler =>
    async (event) => {
      const given = Buffer.from((event.headers?.authorization ?? '').replace(/^Bearer /, ''));
      const expected = Buffer.from(opts.token);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return json(401, { error: 'control token required (see npm-start.json)' });
      const { status, body } = await handle(event);
      return json(status, body);
    };

  const status = guarded(async () => {
    const queue = service.localQueue;
    const body: LocalStatus = {
      sandbox: service.sims !== undefined,
      callbackUrl: opts.callbackUrl,
      maxSkewSeconds: service.callbackConfig().maxSkewSeconds,
      queue: queue ? { depth: queue.depth, deadLetters: queue.deadLetters.length } : null,
      latestReport: await service.store.latestReport(),
    };
    if (service.sims) {
      body.settings = Object.fromEntries(
        Object.entries(service.env).filter((e): e is [string, string] => /^(DINGTALK|WECOM|SYNC|CALLBACK)_/.test(e[0]) && !!e[1]),
      );
    }
    return { status: 200, body };
  });

  const start = guarded(async (event) => {
    if (run.running) return { status: 409, body: { error: 'a reconcile is already running', runId: run.runId } };
    const asked = JSON.parse(event.body || '{}') as { dryRun?: unknown; allowDeletes?: unknown };
    const dryRun = asked.dryRun === true;
    const runId = randomBytes(8).toString('hex');
    const current: LocalRunState = { running: true, runId, dryRun };
    run = current;
    runReconcile(service.reconcileDeps(service.queue), {
      dryRun,
      allowDeletes: asked.allowDeletes === true,
      onProgress: (phase, done, total) => {
        current.progress = { phase, done, total };
      },
    }).then(
      ({ report, plan }) => {
        current.result = { report, plan: plan && summarisePlan(plan.ops) };
        current.running = false;
      },
      (e: unknown) => {
        current.error = e instanceof Error ? e.message : String(e);
        current.running = false;
      },
    );
    return { status: 202, body: { runId } };
  });

  return [
    { method: 'GET', path: '/local/status', handler: status },
    { method: 'POST', path: '/local/reconcile', handler: start },
    { method: 'GET', path: '/local/reconcile', handler: guarded(async () => ({ status: 200, body: run })) },
  ];
}

function json(statusCode: number, body: unknown) {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}
