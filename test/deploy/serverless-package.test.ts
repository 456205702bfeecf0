/**
 * `serverless package` must work offline with no AWS credentials; the generated CloudFormation
 * template is then checked for the resources the design names.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation's template is untyped JSON, read by path in assertions
type Cfn = any;
type Resource = { Type: string; Properties: Record<string, Cfn>; DependsOn?: unknown };
let template: { Resources: Record<string, Resource>; Outputs: Record<string, unknown> };
let dir: string;

const byType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

/** Resolves `{ 'Fn::GetAtt': [name, attr] }` / `{ Ref: name }` to the logical name. */
const target = (v: Cfn): string | undefined => v?.['Fn::GetAtt']?.[0] ?? v?.Ref;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sls-package-'));
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', HOME: dir };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  await promisify(execFile)(process.execPath, ['node_modules/serverless/bin/serverless.js', 'package', '--stage', 'test', '--package', dir], {
    env,
    timeout: 240_000,
  });
  template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serverless package (offline)', () => {
  it('routes POST /dingtalk/callback through an HTTP API to the callback function', () => {
    const routes = byType('AWS::ApiGatewayV2::Route');
    expect(routes.map(([, r]) => r.Properties.RouteKey)).toContain('POST /dingtalk/callback');
    const integration = byType('AWS::ApiGatewayV2::Integration')[0]![1];
    expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
    expect(JSON.stringify(integration.Properties.IntegrationUri)).toContain('CallbackLambdaFunction');
  });

  it('declares a FIFO change queue with a FIFO dead-letter queue after 5 receives', () => {
    const queue = template.Resources.ChangeQueue!;
    const dlq = template.Resources.ChangeDeadLetterQueue!;
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties.FifoQueue).toBe(true);
    expect(dlq.Properties.FifoQueue).toBe(true);
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(target(queue.Properties.RedrivePolicy.deadLetterTargetArn)).toBe('ChangeDeadLetterQueue');
  });

  it('gives the callback only SendMessage on that queue', () => {
    const fn = template.Resources.CallbackLambdaFunction!;
    expect(target(fn.Properties.Role)).toBe('CallbackRole');
    const statements = template.Resources.CallbackRole!.Properties.Policies.flatMap((p: Cfn) => p.PolicyDocument.Statement);
    const sqs = statements.filter((s: Cfn) => JSON.stringify(s.Action).includes('sqs:'));
    expect(sqs).toHaveLength(1);
    expect(sqs[0].Action).toBe('sqs:SendMessage');
    expect(target(sqs[0].Resource)).toBe('ChangeQueue');
    expect(JSON.stringify(statements)).not.toContain('"*"');
  });

  it('runs the functions on nodejs22.x, each from its own zip', () => {
    const fns = byType('AWS::Lambda::Function');
    expect(fns.map(([name]) => name).sort()).toEqual(['CallbackLambdaFunction', 'ReconcileLambdaFunction', 'SyncLambdaFunction']);
    for (const [, fn] of fns) expect(fn.Properties.Runtime).toBe('nodejs22.x');
    for (const f of ['callback', 'sync', 'reconcile']) expect(zipEntries(join(dir, `${f}.zip`)).has(`handlers/${f}.js`)).toBe(true);
  });

  it('ships the callback as a minified bundle without the worker’s dependencies (cold start)', () => {
    const bundle = zipEntries(join(dir, 'callback.zip')).get('handlers/callback.js')!.toString('utf8');
    expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(1000); // minified: few, very long lines
    expect(bundle).toContain('SendMessageBatch');
    for (const absent of ['DynamoDB', 'SqsFifoPartialProcessor', 'WeComSimulator', 'department/create']) expect(bundle).not.toContain(absent);
  });

  it('triggers the sync function from the queue with partial batch responses, batch size 10', () => {
    const mapping = byType('AWS::Lambda::EventSourceMapping')[0]![1];
    expect(target(mapping.Properties.EventSourceArn)).toBe('ChangeQueue');
    expect(mapping.Properties.BatchSize).toBe(10);
    expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(mapping.Properties.ScalingConfig.MaximumConcurrency).toBeGreaterThan(1);
    const syncTimeout = template.Resources.SyncLambdaFunction!.Properties.Timeout;
    expect(template.Resources.ChangeQueue!.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * syncTimeout);
  });

  it('passes the rate budget to both workers, with the sync trigger’s own maximumConcurrency, and the queue for throttled changes', () => {
    const mapping = byType('AWS::Lambda::EventSourceMapping')[0]![1];
    for (const fn of ['SyncLambdaFunction', 'ReconcileLambdaFunction']) {
      const vars = template.Resources[fn]!.Properties.Environment.Variables;
      expect(Number(vars.DINGTALK_CALLS_PER_SECOND)).toBeLessThanOrEqual(20);
      expect(Number(vars.WECOM_CALLS_PER_MINUTE)).toBeLessThanOrEqual(10_000);
      expect(Number(vars.SYNC_MAX_CONCURRENCY)).toBe(mapping.Properties.ScalingConfig.MaximumConcurrency);
      expect(Number(vars.RECONCILE_RATE_SHARE)).toBeGreaterThanOrEqual(1);
      expect(target(vars.QUEUE_URL)).toBe('ChangeQueue');
    }
  });

  it('declares an on-demand state table the workers may use, and a schedule for the reconcile', () => {
    const table = template.Resources.StateTable!;
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    const rules = byType('AWS::Events::Rule');
    expect(rules.some(([, r]) => /rate|cron/.test(r.Properties.ScheduleExpression))).toBe(true);
    const syncStatements = template.Resources.SyncRole!.Properties.Policies.flatMap((p: Cfn) => p.PolicyDocument.Statement);
    expect(syncStatements.some((s: Cfn) => target(s.Resource) === 'StateTable')).toBe(true);
  });

  it('gives the workers a fixed egress IP for WeCom’s trusted-IP list', () => {
    expect(byType('AWS::EC2::NatGateway')).toHaveLength(1);
    expect(byType('AWS::EC2::EIP')).toHaveLength(1);
    expect(template.Resources.SyncLambdaFunction!.Properties.VpcConfig).toBeDefined();
    expect(template.Outputs).toHaveProperty('WeComTrustedIp');
  });
});

/** The files in a zip, read with node's zlib: the central directory, then each entry's data. */
function zipEntries(path: string): Map<string, Buffer> {
  const zip = readFileSync(path);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + size);
    files.set(name, method === 8 ? inflateRawSync(data) : data);
    at += 46 + skip;
  }
  return files;
}
