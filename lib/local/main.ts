/**
 * `npm start`: the whole pipeline in one process — the callback behind a node:http server, an
 * in-process FIFO queue, the sync worker and an embedded state store — through the same code the
 * Lambdas run. With no DingTalk/WeCom credentials in the environment it starts both simulators
 * on loopback and seeds a small organisation, so the flow can be seen without any account.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, loadCallbackConfig, loadSyncConfig } from '../config';
import { createCallbackHandler } from '../dingtalk/receiver';
import { createLogger } from '../log';
import { createSyncRuntime } from '../runtime';
import { SANDBOX_ENV } from '../sandbox/seed';
import { startSimulators } from '../sandbox/simulators';
import { createSyncBatchProcessor } from '../sync/worker';
import { type HttpApiHandler, startDevServer } from './dev-server';
import { FileStateStore } from './file-store';
import { InProcessQueue } from './memory-queue';
import { startWorkerLoop } from './worker-loop';

const CREDENTIALS = ['DINGTALK_APP_KEY', 'DINGTALK_APP_SECRET', 'WECOM_CORP_ID', 'WECOM_CONTACT_SECRET'] as const;

function json(statusCode: number, body: unknown): Awaited<ReturnType<HttpApiHandler>> {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body: `${JSON.stringify(body, null, 2)}\n` };
}

async function main(): Promise<void> {
  const logger = createLogger('local');
  const env: Record<string, string | undefined> = { ...process.env };
  const port = Number(env.PORT || 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('PORT', 'must be a port number');

  const missing = CREDENTIALS.filter((name) => !env[name]);
  const sandbox = missing.length === CREDENTIALS.length;
  if (!sandbox && missing.length > 0) {
    throw new ConfigError(missing[0]!, `is not set (set all of ${CREDENTIALS.join(', ')} for real APIs, or none for the sandbox)`);
  }

  const sims = sandbox ? await startSimulators() : undefined;
  if (sims) Object.assign(env, sims.env);

  const callbackConfig = loadCallbackConfig(env);
  const syncConfig = loadSyncConfig(env);

  // The sandbox's WeCom forgets everything on restart, so its state must too; with real APIs the
  // store survives restarts, as DynamoDB does in AWS.
  const stateFile = sandbox ? undefined : env.STATE_FILE || '.data/state.json';
  if (stateFile) mkdirSync(dirname(stateFile), { recursive: true });
  const store = new FileStateStore(stateFile);
  const queue = new InProcessQueue();
  const { sync } = createSyncRuntime(syncConfig, { store, logger });
  const stopWorker = startWorkerLoop(queue, createSyncBatchProcessor(sync, logger));

  const routes = [{ method: 'POST', path: '/dingtalk/callback', handler: createCallbackHandler({ config: callbackConfig, queue, logger }) }];
  if (sims) {
    const { dingtalk: dt, wecom: sim } = sims;
    routes.push({ method: 'GET', path: '/sandbox/wecom', handler: async () => json(200, { departments: sim.listDepts(), users: sim.listUsers() }) });
    routes.push({ method: 'GET', path: '/sandbox/dingtalk', handler: async () => json(200, { departments: dt.listDepts(), users: dt.listUsers() }) });
  }
  routes.push({
    method: 'GET',
    path: '/healthz',
    handler: async () => json(200, { ok: true, queueDepth: queue.depth, deadLetters: queue.deadLetters.length }),
  });

  const { server, url } = await startDevServer(routes, port);
  const callbackUrl = `${url}/dingtalk/callback`;
  sims?.dingtalk.setCallback({
    url: callbackUrl,
    token: SANDBOX_ENV.DINGTALK_TOKEN,
    aesKey: SANDBOX_ENV.DINGTALK_AES_KEY,
    ownerKey: SANDBOX_ENV.DINGTALK_OWNER_KEY,
  });

  const lines = [`dingtalk-wecom-sync listening: POST ${callbackUrl}`];
  if (sandbox) {
    const creds = `DINGTALK_TOKEN=${SANDBOX_ENV.DINGTALK_TOKEN} DINGTALK_AES_KEY=${SANDBOX_ENV.DINGTALK_AES_KEY} DINGTALK_OWNER_KEY=${SANDBOX_ENV.DINGTALK_OWNER_KEY}`;
    lines.push(
      `sandbox mode (no credentials set): DingTalk simulator ${env.DINGTALK_API_BASE}, WeCom simulator ${env.WECOM_API_BASE}`,
      `seeded DingTalk with ${sims!.dingtalk.listDepts().length} departments and ${sims!.dingtalk.listUsers().length} users (${url}/sandbox/dingtalk); WeCom starts empty`,
      '',
      'send a signed test event, as DingTalk would:',
      `  ${creds} npm run simulate -- --url ${callbackUrl} --event user_add_org --user zhangsan`,
      'then see what WeCom now holds:',
      `  curl ${url}/sandbox/wecom`,
    );
  } else {
    lines.push(`real APIs: DingTalk ${syncConfig.dingtalkApiBase}, WeCom ${syncConfig.wecomApiBase}; state in ${stateFile}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  const shutdown = (): void => {
    stopWorker();
    server.close();
    void Promise.resolve(sims?.stop()).finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
