/**
 * `npm start`: the whole pipeline in one process — the callback behind a node:http server, an
 * in-process FIFO queue, the sync worker and an embedded state store — through the same code the
 * Lambdas run (lib/local/server.ts). With no DingTalk/WeCom credentials in the environment it
 * starts both simulators on loopback and seeds a small organisation, so the flow can be seen
 * without any account.
 */
import { loadLogLevel } from '../config';
import { createLogger } from '../log';
import { SANDBOX_ENV } from '../sandbox/seed';
import { startLocalServer } from './server';

async function main(): Promise<void> {
  const logger = createLogger('local', { level: loadLogLevel() });
  const local = await startLocalServer(process.env, { logger });
  const { service, url, callbackUrl } = local;
  const { sims, deployment, config: syncConfig, rates } = service;

  const lines = [`dingtalk-wecom-sync listening: POST ${callbackUrl}`];
  if (sims) {
    const creds = `DINGTALK_TOKEN=${SANDBOX_ENV.DINGTALK_TOKEN} DINGTALK_AES_KEY=${SANDBOX_ENV.DINGTALK_AES_KEY} DINGTALK_OWNER_KEY=${SANDBOX_ENV.DINGTALK_OWNER_KEY}`;
    lines.push(
      `sandbox mode (no credentials set): DingTalk simulator ${syncConfig.dingtalkApiBase}, WeCom simulator ${syncConfig.wecomApiBase}`,
      `the DingTalk simulator refuses more than 20 calls/s per API (90018), as DingTalk does; calls are paced at ${rates.dingtalkCallsPerSecond}/s per API, ${rates.syncMaxConcurrency} batches at once`,
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
  lines.push(
    'and how it went (status: GET /status; one entity: GET /history/user/<id>, /history/dept/<id>):',
    `  npm run status -- --url ${url}`,
    `  npm run history -- --url ${url} --user zhangsan`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);

  const shutdown = (): void => {
    void local.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
