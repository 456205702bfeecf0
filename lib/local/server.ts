/**
 * What `npm start` runs, as a function: the local service (lib/compose/local.ts) behind the dev
 * server (the callback, the operations endpoints, the sandbox views), with the worker draining
 * the in-process queue in the background. lib/local/main.ts starts it and prints how to use it;
 * the propagation benchmark starts the same thing in its own process.
 */
import type { Server } from 'node:http';
import { composeLocalService, type LocalService, type LocalServiceOptions } from '../compose/local';
import { SANDBOX_ENV } from '../sandbox/seed';
import { controlFilePath, controlRoutes, newControlToken, removeControlFile, writeControlFile } from './control';
import { type HttpApiHandler, type Route, startDevServer } from './dev-server';
import { operationsRoutes } from './ops-routes';
import { startWorkerLoop } from './worker-loop';

export interface LocalServer {
  service: LocalService;
  server: Server;
  url: string;
  callbackUrl: string;
  /** Stops the worker, the server and the simulators. */
  close(): Promise<void>;
}

function json(statusCode: number, body: unknown): Awaited<ReturnType<HttpApiHandler>> {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body: `${JSON.stringify(body, null, 2)}\n` };
}

export async function startLocalServer(env: Record<string, string | undefined>, opts: LocalServiceOptions = {}): Promise<LocalServer> {
  const service = await composeLocalService(env, opts);
  const { sims, deployment } = service;
  // npm start's worker drains the in-process queue; with QUEUE_URL set the Lambda's worker does.
  const queue = service.localQueue;
  // As many batches at once as the SQS trigger runs Lambdas, sharing this process's pacing.
  const stopWorker = queue ? startWorkerLoop(queue, service.processBatch, { concurrency: service.rates.syncMaxConcurrency }) : () => undefined;

  const routes: Route[] = [{ method: 'POST', path: '/dingtalk/callback', handler: service.callbackHandler() }, ...operationsRoutes(service.operations())];
  if (sims) {
    const { dingtalk: dt, wecom: sim } = sims;
    routes.push({ method: 'GET', path: '/sandbox/wecom', handler: async () => json(200, { departments: sim.listDepts(), users: sim.listUsers() }) });
    routes.push({ method: 'GET', path: '/sandbox/dingtalk', handler: async () => json(200, { departments: dt.listDepts(), users: dt.listUsers() }) });
  }
  routes.push({
    method: 'GET',
    path: '/healthz',
    handler: async () => json(200, { ok: true, queueDepth: queue?.depth ?? null, deadLetters: queue?.deadLetters.length ?? null }),
  });

  let started: { server: Server; url: string };
  try {
    started = await startDevServer(routes, deployment.port);
  } catch (e) {
    stopWorker();
    await service.close();
    throw e;
  }
  const { server, url } = started;
  const callbackUrl = `${url}/dingtalk/callback`;
  // For `npm run doctor` and `npm run first-import`: routes behind a token only this user can read.
  const token = newControlToken();
  routes.push(...controlRoutes(service, { token, callbackUrl }));
  const controlFile = controlFilePath(deployment.stateFile);
  writeControlFile(controlFile, { url, token, pid: process.pid });
  sims?.dingtalk.setCallback({
    url: callbackUrl,
    token: SANDBOX_ENV.DINGTALK_TOKEN,
    aesKey: SANDBOX_ENV.DINGTALK_AES_KEY,
    ownerKey: SANDBOX_ENV.DINGTALK_OWNER_KEY,
  });
  return {
    service,
    server,
    url,
    callbackUrl,
    close: async () => {
      removeControlFile(controlFile);
      stopWorker();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await service.close();
    },
  };
}
