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
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoHistoryStore } from '../../lib/aws/dynamo-history';
import { DynamoStateStore, stateTableDefinition } from '../../lib/aws/dynamo-store';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { signedRequest } from '../../lib/dingtalk/push';
import { encodeMessage } from '../../lib/messages';
import { METRICS_NAMESPACE } from '../../lib/metrics/metrics';
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

describe('what the handlers tell CloudWatch', () => {
  /** The embedded-metric-format lines a call wrote to stdout, where Lambda sends them to CloudWatch Logs. */
  async function emfLines<T>(call: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const result = await call();
      const lines = written
        .join('')
        .split('\n')
        .filter((l) => l.includes('"_aws"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      return { result, lines };
    } finally {
      spy.mockRestore();
    }
  }
  const metricsOf = (line: Record<string, unknown>) =>
    (line._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]!;

  it('callback: accepted, rejected by reason and enqueued, in the namespace and service the alarms watch', async () => {
    const { handler } = await import('../../handlers/callback');
    const plaintext = JSON.stringify({ EventType: 'user_modify_org', CorpId: 'c', UserId: ['wangwu'], TimeStamp: String(Date.now()) });
    const creds = { token: SANDBOX_ENV.DINGTALK_TOKEN, aesKey: SANDBOX_ENV.DINGTALK_AES_KEY, ownerKey: SANDBOX_ENV.DINGTALK_OWNER_KEY };
    const good = signedRequest(plaintext, creds);
    const { lines } = await emfLines(() => handler(callbackEvent(good.query, good.body)));
    expect(lines).toHaveLength(1);
    expect(metricsOf(lines[0]!)).toEqual({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [['service']],
      Metrics: [
        { Name: 'MessagesEnqueued', Unit: 'Count' },
        { Name: 'CallbackAccepted', Unit: 'Count' },
      ],
    });
    expect(lines[0]).toMatchObject({ service: 'dingtalk-wecom-sync', MessagesEnqueued: 1, CallbackAccepted: 1 });

    const forged = signedRequest(plaintext, { ...creds, token: 'not-the-token' });
    const rejected = await emfLines(() => handler(callbackEvent(forged.query, forged.body)));
    expect(rejected.result.statusCode).toBe(401);
    expect(metricsOf(rejected.lines[0]!).Dimensions).toEqual([['service', 'Reason']]);
    expect(rejected.lines[0]).toMatchObject({ Reason: 'bad_signature', CallbackRejected: 1 });
  });

  it('sync: outcomes by result, propagation latency and retried messages through Powertools, and the history in the table', async () => {
    const { handler } = await import('../../handlers/sync');
    const fresh: SQSRecord = {
      messageId: 'm10',
      receiptHandle: 'm10',
      body: encodeMessage({ kind: 'user', id: 'wangwu', eventType: 'user_modify_org', eventTime: Date.now() - 1500, corpId: 'c' }),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: 'user:wangwu' },
      messageAttributes: { correlationId: { stringValue: 'c0ffee', dataType: 'String' }, triggerSource: { stringValue: 'push', dataType: 'String' } },
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:changes.fifo',
      awsRegion: 'us-east-1',
    };
    // wangwu synced first and then changed in DingTalk, so the measured message is one update.
    await handler({ Records: [{ ...fresh, messageId: 'm9', receiptHandle: 'm9' }] });
    sims.dingtalk.updateUser('wangwu', { title: '测量' }, { push: false });
    const { lines } = await emfLines(() => handler({ Records: [fresh] }));
    const byName = new Map(lines.flatMap((l) => metricsOf(l).Metrics.map((m) => [m.Name, l] as const)));
    expect(metricsOf(byName.get('SyncResults')!)).toMatchObject({ Namespace: METRICS_NAMESPACE, Dimensions: [['service', 'Result']] });
    expect(byName.get('SyncResults')).toMatchObject({ service: 'dingtalk-wecom-sync', Result: 'updated', SyncResults: 1 });
    expect(byName.get('PropagationLatency')!.PropagationLatency).toBeGreaterThanOrEqual(1500);
    expect(byName.get('RetriedMessages')).toMatchObject({ RetriedMessages: 0 });
    const [item] = await new DynamoHistoryStore({ tableName: 'state', ttlDays: 180 }).history('user', 'wangwu');
    expect(item).toMatchObject({ correlationId: 'c0ffee', result: 'updated', trigger: { source: 'push', eventType: 'user_modify_org' } });
  });

  it('reconcile: the run by status, its duration and counts; a dry run is not counted', async () => {
    const { handler } = await import('../../handlers/reconcile');
    const dry = await emfLines(() => handler({ dryRun: true }));
    expect(dry.lines.flatMap((l) => metricsOf(l).Metrics.map((m) => m.Name))).not.toContain('ReconcileRuns');
    const { lines } = await emfLines(() => handler({}));
    const runs = lines.find((l) => 'ReconcileRuns' in l)!;
    expect(runs).toMatchObject({ Status: 'success', ReconcileRuns: 1 });
    expect(lines.some((l) => typeof l.ReconcileDuration === 'number')).toBe(true);
  });
});
