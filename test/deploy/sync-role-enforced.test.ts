/**
 * Review of issue 11: the sync role lacks what the sync calls on every message.
 *
 * Every entity the sync handles is written under its lease (lib/sync/entity-lease.ts):
 * `DynamoStateStore.acquireLease` is a conditional PutItem, `releaseLease` a conditional
 * DeleteItem. The packaged SyncRole grants only GetItem, UpdateItem and Scan on the state table.
 * test/deploy/role-actions.test.ts passes anyway: entity-lease.ts reaches the store through
 * `Pick<StateStore, 'acquireLease' | 'releaseLease'>`, which sdk-calls.ts does not follow, so
 * neither action is counted as called, and nothing is "granted but never called" either.
 *
 * Shown two ways: the sync handler run against DynamoDB (dynalite) behind a proxy that enforces
 * the packaged role's DynamoDB actions as IAM would, and the analysis itself.
 */
import { createServer, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateTableDefinition } from '../../lib/aws/dynamo-store';
import { encodeMessage } from '../../lib/messages';
import { type Simulators, startSimulators } from '../../lib/sandbox/simulators';
import { type Cfn, packageStack, resourceName, statementsOf } from '../deploy/packaged-stack';
import { analyseHandlers } from '../deploy/sdk-calls';

const dynalite = createRequire(import.meta.url)('dynalite') as (o: { createTableMs?: number }) => Server;
const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

/** Each DynamoDB action the role grants, with what it grants it on (`StateTable`, `StateTable/index/<name>`). */
let granted: { action: string; resource: string }[];
let dynamo: Server;
let proxy: Server;
let sims: Simulators;
const denied: string[] = [];
const saved = { ...process.env };

/** DynamoDB in front of dynalite, answering AccessDeniedException for an action the role does not grant. */
function iamProxy(dynamoPort: number): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const action = `dynamodb:${String(req.headers['x-amz-target']).split('.')[1]}`;
      // A Query on an index needs the grant on the index's ARN, not the table's.
      const index = (JSON.parse(Buffer.concat(chunks).toString() || '{}') as { IndexName?: string }).IndexName;
      const resource = index ? `StateTable/index/${index}` : 'StateTable';
      if (!granted.some((g) => g.action === action && g.resource === resource)) {
        denied.push(action);
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: `not authorized to perform: ${action}` }));
        return;
      }
      const up = request({ host: '127.0.0.1', port: dynamoPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 500, r.headers);
        r.pipe(res);
      });
      up.end(Buffer.concat(chunks));
    });
  });
}

beforeAll(async () => {
  const stack = (await packageStack('test')).stack;
  granted = statementsOf(stack, 'SyncRole')
    .filter((s: Cfn) => resourceName(s.Resource)?.startsWith('StateTable'))
    .flatMap((s: Cfn) => [s.Action].flat().map((action: string) => ({ action, resource: resourceName(s.Resource)! })));
  dynamo = dynalite({ createTableMs: 0 });
  const dynamoPort = await listen(dynamo);
  proxy = iamProxy(dynamoPort);
  const proxyPort = await listen(proxy);
  sims = await startSimulators();
  Object.assign(process.env, sims.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${proxyPort}`,
    STATE_TABLE: 'state',
    LOG_LEVEL: 'error',
  });
  delete process.env.SECRETS_SSM_PATH;
  await new DynamoDBClient({ endpoint: `http://127.0.0.1:${dynamoPort}` }).send(new CreateTableCommand({ TableName: 'state', ...stateTableDefinition }));
}, 180_000);

afterAll(async () => {
  process.env = saved;
  await Promise.all([sims?.stop(), new Promise((r) => dynamo?.close(r)), new Promise((r) => proxy?.close(r))]);
});

const record = (id: string, messageId: string): SQSEvent['Records'][number] => ({
  messageId,
  receiptHandle: messageId,
  body: encodeMessage({ kind: 'user', id, eventType: 'user_add_org', eventTime: 0, corpId: 'c' }),
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '0',
    SenderId: 'x',
    ApproximateFirstReceiveTimestamp: '0',
    MessageGroupId: `user:${id}`,
    MessageDeduplicationId: messageId,
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:changes.fifo',
  awsRegion: 'us-east-1',
});

describe('the sync role covers what the sync calls', () => {
  it('syncs a new user with only the DynamoDB actions the packaged SyncRole grants', async () => {
    const { handler } = await import('../../handlers/sync');
    const res = await handler({ Records: [record('zhangsan', 'm1')] }, { getRemainingTimeInMillis: () => 60_000 });
    // Under the packaged role every message fails (acquireLease: PutItem denied) and, after
    // maxReceiveCount receives, rests in the dead-letter queue: no change is synced in real time.
    expect({ denied: [...new Set(denied)], failures: res.batchItemFailures }).toEqual({ denied: [], failures: [] });
    expect(sims.wecom.getUser('zhangsan')).toBeDefined();
  });

  it('the role-actions analysis sees the lease the sync takes (a call through Pick<StateStore, …>)', async () => {
    const sync = (await analyseHandlers(['handlers/sync.ts'])).get('handlers/sync.ts')!;
    expect([...sync.required.keys()]).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:DeleteItem']));
  }, 120_000);
});
