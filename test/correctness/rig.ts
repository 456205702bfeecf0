/**
 * What the correctness tests share: the sandbox pipeline (DingTalk simulator → signed push →
 * callback → in-process queue → worker → WeCom simulator, over HTTP on loopback) plus a full
 * reconcile wired to the same store and queue, and a small HTTP gateway that can stand between
 * the service and a simulator to give answers the simulators have no reason to give.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { composeSyncCore } from '../../lib/compose/core';
import { loadSyncConfig, type SyncConfig } from '../../lib/config';
import type { StateStore, WeComDirectory } from '../../lib/ports';
import { type SandboxPipeline, startSandboxPipeline } from '../../lib/sandbox/pipeline';
import { EntitySync } from '../../lib/sync/entity';
import { type ReconcileDeps, type ReconcileOptions, type ReconcileResult, runReconcile } from '../../lib/sync/reconcile';

export interface Rig extends SandboxPipeline {
  /** The environment the pipeline's worker runs with (credentials, API bases, SYNC_*). */
  env: Record<string, string>;
  config: SyncConfig;
  /**
   * Reconcile dependencies on the pipeline's store and queue. `env` changes the configuration
   * (a new runtime is built for it); `wecom` replaces the WeCom client the reconcile writes with.
   */
  deps(over?: { env?: Record<string, string>; wecom?: WeComDirectory; store?: StateStore }): ReconcileDeps;
  reconcile(opts?: ReconcileOptions, over?: { env?: Record<string, string>; wecom?: WeComDirectory; store?: StateStore }): Promise<ReconcileResult>;
}

export async function startRig(env: Record<string, string> = {}, opts: { seed?: boolean; rateLimits?: boolean } = {}): Promise<Rig> {
  const h = await startSandboxPipeline(env, { seed: opts.seed, rateLimits: opts.rateLimits });
  const fullEnv: Record<string, string> = {
    DINGTALK_APP_KEY: h.dt.appKey,
    DINGTALK_APP_SECRET: h.dt.appSecret,
    DINGTALK_API_BASE: h.dt.url,
    WECOM_CORP_ID: h.wc.corpId,
    WECOM_CONTACT_SECRET: h.wc.contactSecret,
    WECOM_API_BASE: h.wc.url,
    ...env,
  };
  const config = loadSyncConfig(fullEnv);
  const deps: Rig['deps'] = (over = {}) => {
    const store = over.store ?? h.store;
    const cfg = over.env ? loadSyncConfig({ ...fullEnv, ...over.env }) : config;
    const base = over.env || over.store ? composeSyncCore(cfg, { store }) : { dingtalk: h.dingtalk, wecom: h.wecom, sync: h.sync };
    const wecom = over.wecom ?? base.wecom;
    const sync = over.wecom ? new EntitySync({ dingtalk: base.dingtalk, wecom, store, config: cfg }) : base.sync;
    return { dingtalk: base.dingtalk, wecom, store, sync, queue: h.queue, config: cfg };
  };
  return Object.assign(h, {
    env: fullEnv,
    config,
    deps,
    reconcile: (o: ReconcileOptions = {}, over: Parameters<Rig['deps']>[0] = {}) => runReconcile(deps(over), o),
  });
}

/** Operations of a plan as `op id` strings, for readable assertions. */
/** A person as the convergence property's scenarios make them (a mobile, no email), for `dt.seed` and `dt.addUser`. */
export const person = (userid: string, mobile: string, dept_id_list = [2], extra: Record<string, unknown> = {}) => ({
  userid,
  name: userid.toUpperCase(),
  mobile,
  state_code: '86',
  dept_id_list,
  ...extra,
});

export function opsOf(result: ReconcileResult): string[] {
  return (result.plan?.ops ?? []).map((o) => `${o.op} ${o.id}`);
}

// ---------------------------------------------------------------------------------------------
// A gateway in front of a simulator

interface GatewayRule {
  /** The API below the base path, e.g. `user/create` or `topapi/v2/user/list`. */
  api: string;
  /** Answer HTTP 200 with this text instead of forwarding the request. */
  answer?: string;
  /** Forward, then replace the answer's text by what this returns. */
  rewrite?: (answerText: string, requestBody: string) => string;
  /** How many calls the rule applies to; undefined = all of them. */
  times?: number;
}

export interface Gateway {
  /** Origin of the gateway, e.g. `http://127.0.0.1:40000`; paths are passed through unchanged. */
  origin: string;
  /** Where requests are forwarded (an origin); settable after the simulator has started. */
  target: string;
  rules: GatewayRule[];
  close(): Promise<void>;
}

export async function startGateway(prefix: string): Promise<Gateway> {
  const gateway: Gateway = { origin: '', target: '', rules: [], close: async () => undefined };
  const take = (api: string): GatewayRule | undefined => {
    const rule = gateway.rules.find((r) => r.api === api && (r.times === undefined || r.times > 0));
    if (rule && rule.times !== undefined) rule.times--;
    return rule;
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://gateway');
      const api = url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length + 1) : url.pathname;
      const rule = take(api);
      if (rule?.answer !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(rule.answer);
        return;
      }
      const upstream = await fetch(`${gateway.target}${url.pathname}${url.search}`, {
        method: req.method,
        headers: { 'content-type': 'application/json' },
        body: req.method === 'POST' ? body : undefined,
      });
      let text = await upstream.text();
      if (rule?.rewrite) text = rule.rewrite(text, body);
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(text);
    })().catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`gateway error: ${e instanceof Error ? e.message : String(e)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gateway.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gateway.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return gateway;
}

/**
 * Per-file lifecycle: `start` brings up a rig, `gateway` a gateway, and both are closed after
 * each test.
 */
export function rigLifecycle(): { start: typeof startRig; gateway: typeof startGateway } {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });
  return {
    start: async (env, opts) => {
      const rig = await startRig(env, opts);
      open.push(rig);
      return rig;
    },
    gateway: async (prefix) => {
      const g = await startGateway(prefix);
      open.push(g);
      return g;
    },
  };
}
