/**
 * `npm run status` and `npm run history` as functions of their arguments: against a deployed
 * stage (`--stage`: the stack's outputs from a stand-in for CloudFormation, the queues on
 * local-aws-sqs, the table on dynalite, the oldest message's age from a stand-in for CloudWatch)
 * and against a running local server (`--url`).
 */
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { type CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoHistoryStore } from '../../lib/aws/dynamo-history';
import { DynamoStateStore, stateTableDefinition } from '../../lib/aws/dynamo-store';
import { SqsChangeQueue } from '../../lib/aws/sqs-queue';
import { postSignedEvent } from '../../lib/dingtalk/push';
import { type LocalServer, startLocalServer } from '../../lib/local/server';
import { SANDBOX_ENV } from '../../lib/sandbox/seed';
import type { StatusReport } from '../../lib/status/status';
import { historyCommand, type OperationsCliDeps, statusCommand } from '../../scripts/operations-cli';
import { userState } from '../store/contract';
import { NOTHING_LISTENS } from '../support/nothing-listens';

const dynalite = createRequire(import.meta.url)('dynalite') as (o: { createTableMs?: number }) => Server;
const T0 = Date.parse('2026-03-01T08:00:00.000Z');
const creds = { region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } };

let sqsServer: Server;
let dynamo: Server;
let sqs: SQSClient;
let dynamodb: DynamoDBClient;
let stage: OperationsCliDeps;
let queueUrl: string;
const cloudwatchAsked: GetMetricDataCommandInput[] = [];

beforeAll(async () => {
  sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1' });
  dynamo = dynalite({ createTableMs: 0 });
  await new Promise<void>((r) => dynamo.listen(0, '127.0.0.1', () => r()));
  sqs = new SQSClient({ ...creds, endpoint: `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}` });
  dynamodb = new DynamoDBClient({ ...creds, endpoint: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}` });

  // What `serverless deploy --stage prod` would have made.
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'prod-dlq.fifo', Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'prod-changes.fifo', Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  await dynamodb.send(new CreateTableCommand({ TableName: 'prod-state', ...stateTableDefinition }));

  // Three changes waiting, one of them taken by a worker; one dead letter.
  const change = (id: string) => ({ kind: 'user' as const, id, eventType: 'user_modify_org', eventTime: T0, corpId: 'c' });
  await new SqsChangeQueue({ queueUrl, client: sqs }).enqueue([change('a'), change('b'), change('c')]);
  await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 300 }));
  await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: '{}', MessageGroupId: 'g', MessageDeduplicationId: 'd' }));

  const states = new DynamoStateStore({ tableName: 'prod-state', client: dynamodb });
  await states.put(userState('twin', { status: 'failed', updatedAt: T0, lastErrcode: 60104, lastError: 'user/create: mobile existed' }));
  await states.putReport({ runId: 'run-7', startedAt: T0, finishedAt: T0 + 2000, status: 'success', dryRun: false, counts: { create_user: 1 }, errors: [] });
  const history = new DynamoHistoryStore({ tableName: 'prod-state', client: dynamodb, ttlDays: 180 });
  await history.append({
    kind: 'user',
    id: 'twin',
    at: new Date(T0).toISOString(),
    trigger: { source: 'push', eventType: 'user_add_org', eventTime: new Date(T0 - 900).toISOString() },
    correlationId: 'c0ffee',
    result: 'failed',
    changedFields: [],
    errcode: 60104,
  });

  const outputs = [
    { OutputKey: 'ChangeQueueUrl', OutputValue: queueUrl },
    { OutputKey: 'DeadLetterQueueUrl', OutputValue: dlqUrl },
    { OutputKey: 'StateTableName', OutputValue: 'prod-state' },
  ];
  const cloudformation = {
    send: (async () => ({ Stacks: [{ StackName: 'dingtalk-wecom-sync-prod', Outputs: outputs }] })) as unknown as CloudFormationClient['send'],
  };
  const cloudwatch = {
    send: (async (command: GetMetricDataCommand) => {
      expect(command).toBeInstanceOf(GetMetricDataCommand);
      cloudwatchAsked.push(command.input);
      return { MetricDataResults: [{ Id: 'age', Values: [42.4] }] };
    }) as unknown as CloudWatchClient['send'],
  };
  stage = { stageClients: { cloudformation, cloudwatch, sqs, dynamodb, clock: { now: () => T0 + 60_000 } } };
});

afterAll(async () => {
  sqs.destroy();
  dynamodb.destroy();
  await Promise.all([new Promise((r) => sqsServer.close(r)), new Promise((r) => dynamo.close(r))]);
});

describe('--stage: a deployed stage, from its stack’s outputs', () => {
  it('prints the status as JSON: SQS counts, CloudWatch’s oldest age, the last run and the open failures', async () => {
    const r = await statusCommand(['--stage', 'prod', '--json'], stage);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(r.stdout) as StatusReport;
    // SQS's own figures, passed through: AWS documents ApproximateNumberOfMessages as the messages
    // available (2 here); local-aws-sqs also counts the one in flight in it.
    const attributes = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes!;
    expect(report.queue).toEqual({ depth: Number(attributes.ApproximateNumberOfMessages), inFlight: 1, oldestAgeSeconds: 42, deadLetters: 1 });
    expect(report.reconcile.lastRun).toMatchObject({ runId: 'run-7', status: 'success', counts: { create_user: 1 } });
    expect(report.failures).toEqual({
      open: 1,
      items: [expect.objectContaining({ kind: 'user', id: 'twin', errcode: 60104, hint: expect.stringContaining('find who holds it') })],
    });
    const asked = cloudwatchAsked[0]!.MetricDataQueries![0]!.MetricStat!;
    expect(asked.Metric).toEqual({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: 'prod-changes.fifo' }],
    });
  });

  it('prints it as tables', async () => {
    const r = await statusCommand(['--stage', 'prod'], stage);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('status of stage prod');
    expect(r.stdout).toMatch(/in flight\s+1/);
    expect(r.stdout).toMatch(/user:twin\s+60104/);
  });

  it('prints one entity’s history from the table, as a table and as JSON', async () => {
    const table = await historyCommand(['--stage', 'prod', '--user', 'twin'], stage);
    expect(table.stdout).toMatch(/failed\s+60104\s+c0ffee\s+user_add_org @/);
    const json = JSON.parse((await historyCommand(['--stage', 'prod', '--user', 'twin', '--json'], stage)).stdout);
    expect(json).toEqual({
      items: [
        {
          at: '2026-03-01T08:00:00.000Z',
          trigger: { source: 'push', eventType: 'user_add_org', eventTime: '2026-03-01T07:59:59.100Z' },
          correlationId: 'c0ffee',
          result: 'failed',
          changedFields: [],
          errcode: 60104,
        },
      ],
    });
  });
});

describe('--url: a running npm start', () => {
  let local: LocalServer;
  beforeAll(async () => {
    local = await startLocalServer(
      { PORT: '0', LOG_LEVEL: 'error', STATE_FILE: join(mkdtempSync(join(tmpdir(), 'operations-cli-')), 'state.json') },
      { sandbox: true },
    );
  });
  afterAll(() => local.close());

  it('asks GET /status and GET /history/…, which answer exactly the documented keys', async () => {
    const pushed = await postSignedEvent(
      local.callbackUrl,
      { EventType: 'user_add_org', CorpId: 'c', UserId: ['zhangsan'], TimeStamp: String(Date.now()) },
      { token: SANDBOX_ENV.DINGTALK_TOKEN, aesKey: SANDBOX_ENV.DINGTALK_AES_KEY, ownerKey: SANDBOX_ENV.DINGTALK_OWNER_KEY },
    );
    expect(pushed.delivered).toBe(true);
    let items: Record<string, unknown>[] = [];
    for (let i = 0; i < 100 && items.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      items = JSON.parse((await historyCommand(['--url', local.url, '--user', 'zhangsan', '--json'])).stdout).items;
    }
    expect(items).toHaveLength(1);
    expect(Object.keys(items[0]!).sort()).toEqual(['at', 'changedFields', 'correlationId', 'result', 'trigger']);
    expect(items[0]).toMatchObject({ result: 'created', trigger: { source: 'push', eventType: 'user_add_org' } });

    const status = JSON.parse((await statusCommand(['--url', local.url, '--json'])).stdout) as StatusReport;
    expect(Object.keys(status)).toEqual(['queue', 'reconcile', 'failures']);
    expect(Object.keys(status.queue)).toEqual(['depth', 'inFlight', 'oldestAgeSeconds', 'deadLetters']);
    expect(Object.keys(status.reconcile)).toEqual(['lastRun']);
    expect(Object.keys(status.failures)).toEqual(['open', 'items']);

    expect((await historyCommand(['--url', local.url, '--dept', '3'])).stdout).toMatch(/created .*name, order, parentid/);
  });

  it('answers 400 for a bad limit and 404 without an id; ids are percent-decoded', async () => {
    expect((await fetch(`${local.url}/history/user/zhangsan?limit=0`)).status).toBe(400);
    expect((await fetch(`${local.url}/history/user/`)).status).toBe(404);
    expect(await (await fetch(`${local.url}/history/user/${encodeURIComponent('a b/c')}`)).json()).toEqual({ items: [] });
  });
});

describe('mistakes get one line and the usage', () => {
  it.each([
    [['--stage', 'prod', '--url', 'http://x'], /give --stage or --url, not both/],
    [['--region', 'eu-west-1'], /--region goes with --stage/],
    [['--stage', 'prod/../x'], /stage name/],
    [['--url', 'not a url'], /not a valid URL/],
    [['--verbose'], /Unknown option/],
  ])('status %j', async (argv, message) => {
    const r = await statusCommand(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('usage: npm run status');
  });

  it.each([
    [[], /one of --user/],
    [['--user', 'a', '--dept', '1'], /one of --user/],
    [['--dept', 'abc'], /positive whole numbers/],
    [['--user', 'a', '--limit', '0'], /--limit/],
  ])('history %j', async (argv, message) => {
    const r = await historyCommand(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('says when nothing answers at the URL, and passes on what AWS says', async () => {
    const r = await statusCommand(['--url', NOTHING_LISTENS]);
    expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(new RegExp(`^status: no answer from ${NOTHING_LISTENS}/status.*npm start`)) });
    const failing = {
      send: (async () =>
        Promise.reject(Object.assign(new Error('Stack with id x does not exist'), { name: 'ValidationError' }))) as unknown as CloudFormationClient['send'],
    };
    const aws = await statusCommand(['--stage', 'x'], { stageClients: { ...stage.stageClients, cloudformation: failing } });
    expect(aws).toMatchObject({ code: 1, stderr: 'status: ValidationError: Stack with id x does not exist\n' });
  });
});
