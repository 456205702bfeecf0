/**
 * `npm start`: the whole pipeline in one process — the callback behind a node:http server, an
 * in-process FIFO queue, the sync worker and an embedded state store — through the same code the
 * Lambdas run. With no DingTalk/WeCom credentials in the environment it starts both simulators
 * on loopback and seeds a small organisation, so the flow can be seen without any account.
 */
import { composeLocalService } from '../compose/local';
import { loadLogLevel } from '../config';
import { createLogger } from '../log';
import { SANDBOX_ENV } from '../sandbox/seed';
import { controlFilePath, controlRoutes, newControlToken, removeControlFile, writeControlFile } from './control';
import { type HttpApiHandler, startDevServer } from './dev-server';
import { startWorkerLoop } from './worker-loop';

function json(statusCode: number, body: unknown): Awaited<ReturnType<HttpApiHandler>> {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body: `${JSON.stringify(body, null, 2)}\n` };
}

async function main(): Promise<void> {
  const logger = createLogger('local', { level: loadLogLevel() });
  const service = await composeLocalService(process.env, { logger });
  const { sims, deployment, config: syncConfig } = service;
  // npm start's worker drains the in-process queue; with QUEUE_URL set the Lambda's worker does.
  const queue = service.localQueue;
  const stopWorker = queue ? startWorkerLoop(queue, service.processBatch) : () => undefined;

  const routes = [{ method: 'POST', path: '/dingtalk/callback', handler: service.callbackHandler() }];
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

  const { server, url } = await startDevServer(routes, deployment.port);
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

  const lines = [`dingtalk-wecom-sync listening: POST ${callbackUrl}`];
  if (sims) {
    const creds = `DINGTALK_TOKEN=${SANDBOX_ENV.DINGTALK_TOKEN} DINGTALK_AES_KEY=${SANDBOX_ENV.DINGTALK_AES_KEY} DINGTALK_OWNER_KEY=${SANDBOX_ENV.DINGTALK_OWNER_KEY}`;
    lines.push(
      `sandbox mode (no credentials set): DingTalk simulator ${syncConfig.dingtalkApiBase}, WeCom simulator ${syncConfig.wecomApiBase}`,
      `seeded DingTalk with ${sims.dingtalk.listDepts().length} departments and ${sims.dingtalk.listUsers().length} users (${url}/sandbox/dingtalk); WeCom starts empty`,
      '',
      'send a signed test event, as DingTalk would:',
      `  ${creds} npm run simulate -- --url ${callbackUrl} --event user_add_org --user zhangsan`,
      'then see what WeCom now holds:',
      `  curl ${url}/sandbox/wecom`,
      'check the whole set-up, then import everything once, as on day one in AWS:',
      '  npm run doctor',
      '  npm run first-import',
    );
  } else {
    lines.push(
      `real APIs: DingTalk ${syncConfig.dingtalkApiBase}, WeCom ${syncConfig.wecomApiBase}; state in ${deployment.stateTable ? `DynamoDB table ${deployment.stateTable}` : deployment.stateFile}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  const shutdown = (): void => {
    removeControlFile(controlFile);
    stopWorker();
    server.close();
    void service.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
