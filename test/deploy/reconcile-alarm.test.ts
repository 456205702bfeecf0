/**
 * A failed reconcile raises ReconcileAlarm: its runs are not retried (maximumRetryAttempts 0), so
 * the alarm is how anyone hears of it.
 *
 * The reconcile runs with `maximumRetryAttempts: 0`; serverless.yml says a run that failed or was
 * blocked is "logged at error level" and raises ReconcileAlarm (Lambda Errors + the
 * `ReconcileErrorLines` metric filter). But a run whose every WeCom write fails with a retryable
 * error (WeCom busy, -1) ends with status `failed`, logs it at info level ("reconcile finished")
 * and returns normally: no error line for the filter, no Lambda error. The alarm stays OK.
 *
 * (Found by a review: such a run used to log at info level and so matched no filter.)
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateTableDefinition } from '../../lib/aws/dynamo-store';
import { type Simulators, startSimulators } from '../../lib/sandbox/simulators';
import { WECOM_ERR } from '../../lib/wecom/errors';
import { byType, type PackagedStack, packageStack } from '../deploy/packaged-stack';

const dynalite = createRequire(import.meta.url)('dynalite') as (o: { createTableMs?: number }) => Server;
const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

let packaged: PackagedStack;
let dynamo: Server;
let sqs: Server;
let sims: Simulators;
const saved = { ...process.env };

beforeAll(async () => {
  packaged = await packageStack('test', { alarmEmail: 'ops@example.com' });
  dynamo = dynalite({ createTableMs: 0 });
  const dynamoPort = await listen(dynamo);
  sqs = await createSqsServer({ port: 0, hostname: '127.0.0.1' });
  sims = await startSimulators();
  Object.assign(process.env, sims.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${dynamoPort}`,
    AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${(sqs.address() as AddressInfo).port}`,
    STATE_TABLE: 'state',
    LOG_LEVEL: 'info', // as deployed (provider.environment)
  });
  delete process.env.SECRETS_SSM_PATH;
  await new DynamoDBClient({}).send(new CreateTableCommand({ TableName: 'state', ...stateTableDefinition }));
  const queue = await new SQSClient({}).send(new CreateQueueCommand({ QueueName: 'changes.fifo', Attributes: { FifoQueue: 'true' } }));
  process.env.QUEUE_URL = queue.QueueUrl!;
}, 180_000);

afterAll(async () => {
  process.env = saved;
  packaged?.remove();
  await Promise.all([sims?.stop(), new Promise((r) => dynamo?.close(r)), new Promise((r) => sqs?.close(r))]);
});

/** The packaged metric filter pattern `{ $.<field> = "<value>" }` as a predicate on one log line. */
function metricFilter(pattern: string): (line: string) => boolean {
  const m = /^\{\s*\$\.(\w+)\s*=\s*"([^"]*)"\s*\}$/.exec(pattern.trim());
  if (!m) throw new Error(`metric filter pattern not understood by this test: ${pattern}`);
  const [, field, value] = m;
  return (line) => {
    try {
      return JSON.parse(line)?.[field!] === value;
    } catch {
      return false;
    }
  };
}

describe('the reconcile alarm', () => {
  it('a run that ends `failed` (WeCom refuses the worker’s IP on every write) raises ReconcileAlarm: an error line or a Lambda error', async () => {
    const filter = byType(packaged.stack, 'AWS::Logs::MetricFilter').find(([name]) => name === 'ReconcileErrorLines')![1];
    const matches = metricFilter(filter.Properties.FilterPattern);
    for (const api of ['user/create', 'user/update', 'user/delete', 'department/create', 'department/update', 'department/delete']) {
      sims.wecom.failNext(api, WECOM_ERR.untrustedIp, 10_000, 'not allow to access from your ip, from ip: 203.0.113.7');
    }
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    }) as typeof process.stdout.write;
    let status: string | undefined;
    let lambdaError = false;
    try {
      const { handler } = await import('../../handlers/reconcile');
      status = (await handler({ source: 'schedule' })).status;
    } catch {
      lambdaError = true;
    } finally {
      process.stdout.write = write;
    }
    expect(lambdaError ? 'crashed' : status).toBe('failed');
    const errorLines = lines.filter(matches);
    const raised = lambdaError || errorLines.length > 0;
    expect(raised, `no Lambda error, and no log line matches ${filter.Properties.FilterPattern}:\n${lines.join('\n')}`).toBe(true);
  });
});
