/**
 * The Lambda entry points themselves, configured only through the environment as in AWS:
 * callback → local-aws-sqs, sync worker → dynalite state table and the two simulators. What
 * AWS would inject (endpoints, region, credentials) comes from the SDK's own env variables.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStateStore, stateTableDefinition } from '../../lib/aws/dynamo-store';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { signedRequest } from '../../lib/dingtalk/push';
import { encodeMessage } from '../../lib/messages';
import { SANDBOX_ENV } from '../../lib/sandbox/seed';
import { type Simulators, startSimulators } from '../../lib/sandbox/simulators';
import type { WeComSimulator } from '../../lib/sandbox/wecom-sim';
import { callbackEvent } from '../support/http-api-event';

const dynalite = createRequire(import.meta.url)('dynalite') as (o: { createTableMs?: number }) => Server;

let dynamo: Server;
let sqs: Server;
let sims: Simulators;
let wc: WeComSimulator;
let queueUrl: string;
let sqsClient: SQSClient;
const saved = { ...process.env };

const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

beforeAll(async () => {
  dynamo = dynalite({ createTableMs: 0 });
  const dynamoPort = await listen(dynamo);
  sqs = await createSqsServer({ port: 0, hostname: '127.0.0.1' });
  const sqsPort = (sqs.address() as AddressInfo).port;
  sims = await startSimulators();
  wc = sims.wecom;
  Object.assign(process.env, sims.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${dynamoPort}`,
    AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${sqsPort}`,
    STATE_TABLE: 'state',
    CALLBACK_MAX_SKEW_SECONDS: '300',
    LOG_LEVEL: 'error',
  });
  delete process.env.SECRETS_SSM_PATH;
  await new DynamoDBClient({}).send(new CreateTableCommand({ TableName: 'state', ...stateTableDefinition }));
  sqsClient = new SQSClient({});
  queueUrl = (await sqsClient.send(new CreateQueueCommand({ QueueName: 'changes.fifo', Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  process.env.QUEUE_URL = queueUrl;
});

afterAll(async () => {
  process.env = saved;
  await Promise.all([sims.stop(), new Promise((r) => dynamo.close(r)), new Promise((r) => sqs.close(r))]);
});

describe('handlers/callback', () => {
  it('verifies, enqueues to SQS and answers success, configured from the environment', async () => {
    const { handler } = await import('../../handlers/callback');
    const { query, body } = signedRequest(JSON.stringify({ EventType: 'user_add_org', CorpId: 'c', UserId: ['zhangsan', 'lisi'] }), {
      token: SANDBOX_ENV.DINGTALK_TOKEN,
      aesKey: SANDBOX_ENV.DINGTALK_AES_KEY,
      ownerKey: SANDBOX_ENV.DINGTALK_OWNER_KEY,
    });
    const res = await handler(callbackEvent(query, body));
    expect(res.statusCode).toBe(200);
    const got = await sqsClient.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect(got.Messages?.map((m) => JSON.parse(m.Body!).id).sort()).toEqual(['lisi', 'zhangsan']);
  });
});

describe('handlers/sync', () => {
  const record = (id: string, kind: 'user' | 'dept', messageId: string) => ({
    messageId,
    receiptHandle: messageId,
    body: encodeMessage({ kind, id, eventType: 'user_add_org', eventTime: 0, corpId: 'c' }),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
      MessageGroupId: `${kind}:${id}`,
      MessageDeduplicationId: messageId,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:changes.fifo',
    awsRegion: 'us-east-1',
  });

  it('syncs a batch into WeCom, records state in DynamoDB, and reports only retryable failures', async () => {
    const { handler } = await import('../../handlers/sync');
    wc.failNext('user/create', -1); // the first user create: lisi's group is retried
    const event: SQSEvent = { Records: [record('lisi', 'user', 'm1'), record('zhangsan', 'user', 'm2'), record('not-a-json-body', 'user', 'm3')] };
    event.Records[2]!.body = '{"v":99}';
    const res = await handler(event);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m1', 'm3']);
    expect(wc.getUser('zhangsan')?.department).toEqual([3]);
    const store = new DynamoStateStore({ tableName: 'state' });
    expect(await store.get('user', 'zhangsan')).toMatchObject({ status: 'synced', owned: true });
    const again = await handler({ Records: [record('lisi', 'user', 'm4')] });
    expect(again.batchItemFailures).toEqual([]);
    expect(wc.getUser('lisi')?.enable).toBe(1);
  });

  it('hands the invocation’s deadline to the worker: with under 10 s left, no record starts and all go back', async () => {
    const { handler } = await import('../../handlers/sync');
    wc.resetCalls();
    const event: SQSEvent = { Records: [record('wangwu', 'user', 'm5'), record('4', 'dept', 'm6')] };
    const res = await handler(event, { getRemainingTimeInMillis: () => 9_000 });
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m5', 'm6']);
    expect(wc.calls).toEqual({});
    expect(await new DynamoStateStore({ tableName: 'state' }).get('user', 'wangwu')).toBeUndefined();
  });

  it('sends a change still throttled when the invocation is nearly out of time back to SQS as a new message, reporting no failure', async () => {
    const { handler } = await import('../../handlers/sync');
    sims.dingtalk.failNext('topapi/v2/user/get', DINGTALK_ERR.rateLimited, 20);
    // Time to start the record, not to wait out twenty seconds of throttling and still hand the message back.
    const res = await handler({ Records: [record('wangwu', 'user', 'm5')] }, { getRemainingTimeInMillis: () => 13_500 });
    expect(res.batchItemFailures).toEqual([]);
    const got = await sqsClient.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'] }));
    const copy = got.Messages?.find((m) => JSON.parse(m.Body!).id === 'wangwu');
    expect(JSON.parse(copy!.Body!)).toMatchObject({ kind: 'user', id: 'wangwu', throttled: { requeues: 1 } });
    expect(copy!.Attributes?.ApproximateReceiveCount).toBe('1'); // a new message: its receives start over
    sims.dingtalk.clearFaults();
  }, 30_000);
});

describe('handlers/reconcile', () => {
  it('answers a dry run with the plan summary, writing nothing', async () => {
    const { handler } = await import('../../handlers/reconcile');
    wc.resetCalls();
    const result = await handler({ dryRun: true });
    expect(result).toMatchObject({ status: 'success', dryRun: true });
    expect(result.plan?.byOperation.create_user).toBeGreaterThan(0);
    expect(result.plan?.sample.some((row) => row.entity.includes('wangwu'))).toBe(true);
    expect(Object.keys(wc.calls).filter((api) => /create|update|delete/.test(api))).toEqual([]);
  });

  it('treats a scheduled EventBridge event as an apply run', async () => {
    const { handler } = await import('../../handlers/reconcile');
    const result = await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
    expect(result).toMatchObject({ status: 'success', dryRun: false });
    expect(wc.getUser('wangwu')?.enable).toBe(1);
    expect((await new DynamoStateStore({ tableName: 'state' }).latestReport())?.status).toBe('success');
  });
});
