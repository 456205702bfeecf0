/**
 * API Gateway HTTP API → DingTalk callback receiver (lib/dingtalk/receiver.ts). A thin adapter:
 * configuration, the SQS queue and the receiver are built once per container, on the first
 * request, so a cold start loads modules but does no work before it has to.
 *
 * The import graph is kept to the receiver (crypto, event parsing), the SQS adapter, config and
 * log, plus the SSM secrets reader: in AWS, DINGTALK_TOKEN, DINGTALK_AES_KEY and
 * DINGTALK_OWNER_KEY live in SSM Parameter Store under the callback's own path (serverless.yml
 * sets only SECRETS_SSM_PATH), so without it the deployed function could not start. Locally, with
 * SECRETS_SSM_PATH unset, it reads process.env alone.
 *
 * Metrics are written as embedded-metric-format lines by lib/metrics/emf.ts (not Powertools), once
 * per request, for the same reason.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { SqsChangeQueue } from '../lib/aws/sqs-queue';
import { environmentWithSecrets } from '../lib/aws/ssm-secrets';
import { loadCallbackConfig, loadDeploymentConfig, loadLogLevel, requireSetting } from '../lib/config';
import { type CallbackHandler, createCallbackHandler } from '../lib/dingtalk/receiver';
import { createLogger } from '../lib/log';
import { EmfMetrics } from '../lib/metrics/emf';
import { METRIC, metricsService } from '../lib/metrics/metrics';

const logger = createLogger('callback', { level: loadLogLevel() });
const metrics = new EmfMetrics({ service: metricsService() });
let ready: Promise<CallbackHandler> | undefined;

async function init(): Promise<CallbackHandler> {
  const env = await environmentWithSecrets();
  const config = loadCallbackConfig(env);
  const queue = new SqsChangeQueue({ queueUrl: requireSetting(loadDeploymentConfig(env).queueUrl, 'QUEUE_URL') });
  return createCallbackHandler({ config, queue, logger, metrics });
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  ready ??= init().catch((e: unknown) => {
    ready = undefined; // a fixed parameter or a transient SSM failure should not need a redeploy
    throw e;
  });
  let handle: CallbackHandler;
  try {
    handle = await ready;
  } catch (e) {
    // One line naming the variable (ConfigError) or the SSM path; DingTalk sees 500 and retries.
    logger.error('callback cannot start', { error: e instanceof Error ? e.message : String(e) });
    metrics.add(METRIC.callbackServerErrors, 'Count', 1);
    metrics.flush();
    return { statusCode: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"internal error"}' };
  }
  try {
    return await handle(event);
  } finally {
    metrics.flush();
  }
}
