/**
 * API Gateway HTTP API → DingTalk callback receiver. A thin adapter: configuration and the SQS
 * queue are built once per container, on the first request; everything else is in lib/.
 * Its import graph is kept to crypto, event parsing and the SQS client, for the cold start.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { SqsChangeQueue } from '../lib/aws/sqs-queue';
import { environmentWithSecrets } from '../lib/aws/ssm-secrets';
import { loadCallbackConfig } from '../lib/config';
import { createCallbackHandler, type CallbackHandler } from '../lib/dingtalk/receiver';
import { createLogger } from '../lib/log';

const logger = createLogger('callback');
let ready: Promise<CallbackHandler> | undefined;

async function init(): Promise<CallbackHandler> {
  const env = await environmentWithSecrets();
  const config = loadCallbackConfig(env);
  return createCallbackHandler({ config, queue: new SqsChangeQueue({ queueUrl: env.QUEUE_URL ?? '' }), logger });
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  ready ??= init().catch((e: unknown) => {
    ready = undefined; // try again on the next request rather than failing forever
    throw e;
  });
  let handle: CallbackHandler;
  try {
    handle = await ready;
  } catch (e) {
    // Misconfiguration: one clear line naming the variable; DingTalk sees a 500 and retries.
    logger.error('callback cannot start', { error: e instanceof Error ? e.message : String(e) });
    return { statusCode: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"internal error"}' };
  }
  return handle(event);
}
