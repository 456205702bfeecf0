/**
 * The operations resources in the packaged CloudFormation template: one SNS topic
 * that every alarm tells, the optional e-mail subscription, each alarm the README names, the
 * dashboard, the Logs Insights saved queries, and the state table's history index and TTL. The
 * metric names, dimensions and log messages are checked against the code that writes them.
 *
 * Packaged here, twice in parallel (default parameters, and an alarm address and a history TTL
 * set with --param), offline and without AWS credentials, as serverless-package.test.ts does.
 * Each packaging runs in its own copy of the service: serverless-esbuild builds in the service's
 * `.esbuild` folder, which two packagings at once (these, or serverless-package.test.ts running
 * beside this file) would share.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateTableDefinition } from '../../lib/aws/dynamo-store';
import { TIMELINE_INDEX, TTL_ATTRIBUTE } from '../../lib/aws/timeline-index';
import { METRIC, METRICS_NAMESPACE } from '../../lib/metrics/metrics';
import { zipEntries } from './packaged-stack';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation's template is untyped JSON, read by path in assertions
type Cfn = any;
type Template = {
  Resources: Record<string, { Type: string; Condition?: string; DependsOn?: unknown; Properties: Cfn }>;
  Outputs: Record<string, Cfn>;
  Conditions?: Cfn;
  Parameters: Record<string, { Default: string }>;
};

let dir: string;
let template: Template;
let withParams: Template;
const SERVICE = 'dingtalk-wecom-sync-test';

/** What `serverless package` reads of the service; node_modules is linked, not copied. */
const SERVICE_FILES = ['serverless.yml', 'package.json', 'package-lock.json', 'tsconfig.json', 'handlers', 'lib', 'deploy'];

async function packageStage(out: string, params: string[]): Promise<Template> {
  const service = join(out, 'service');
  mkdirSync(service, { recursive: true });
  for (const f of SERVICE_FILES) cpSync(f, join(service, f), { recursive: true });
  symlinkSync(join(process.cwd(), 'node_modules'), join(service, 'node_modules'));
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', HOME: out };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  const args = ['node_modules/serverless/bin/serverless.js', 'package', '--stage', 'test', '--package', join(out, 'pkg'), ...params.map((p) => `--param=${p}`)];
  await promisify(execFile)(process.execPath, args, { env, cwd: service, timeout: 240_000 });
  return JSON.parse(readFileSync(join(out, 'pkg', 'cloudformation-template-update-stack.json'), 'utf8'));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sls-operations-'));
  [template, withParams] = await Promise.all([
    packageStage(join(dir, 'default'), []),
    packageStage(join(dir, 'params'), ['alarmEmail=ops@example.com', 'historyTtlDays=30']),
  ]);
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const byType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const alarm = (name: string) => {
  const found = byType(template, 'AWS::CloudWatch::Alarm').find(([, r]) => r.Properties.AlarmName === `${SERVICE}-${name}`);
  if (!found) throw new Error(`no alarm named ${SERVICE}-${name}`);
  return found[1].Properties;
};
/** Every metric an alarm reads, as `namespace metric dim=value…`. */
const metricsOf = (p: Cfn): string[] => {
  const describe = (m: Cfn) => [m.Namespace, m.MetricName, ...(m.Dimensions ?? []).map((d: Cfn) => `${d.Name}=${d.Value}`)].join(' ');
  return p.Metrics ? p.Metrics.filter((m: Cfn) => m.MetricStat).map((m: Cfn) => describe(m.MetricStat.Metric)) : [describe(p)];
};
const ours = (metric: string, ...dims: string[]) => [METRICS_NAMESPACE, metric, `service=${SERVICE}`, ...dims].join(' ');

describe('alarms reach someone', () => {
  it('sends every alarm, and its recovery, to the one SNS topic', () => {
    expect(byType(template, 'AWS::SNS::Topic')).toHaveLength(1);
    const alarms = byType(template, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(6);
    for (const [, a] of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: 'AlarmTopic' }]);
    }
    expect(template.Outputs.AlarmTopicArn.Value).toEqual({ Ref: 'AlarmTopic' });
  });

  it('subscribes the alarmEmail address only when one is set', () => {
    // A stack parameter defaulting to the stage's value, so the condition is not fixed when packaged.
    const condition = { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmEmail' }, ''] }] };
    expect(template.Conditions.HasAlarmEmail).toEqual(condition);
    expect(template.Parameters.AlarmEmail?.Default).toBe('');
    expect(withParams.Parameters.AlarmEmail?.Default).toBe('ops@example.com');
    const [, subscription] = byType(withParams, 'AWS::SNS::Subscription')[0]!;
    expect(subscription.Condition).toBe('HasAlarmEmail');
    expect(subscription.Properties).toEqual({ TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' } });
  });
});

describe('each alarm watches what it says, with the names the code writes', () => {
  it('dead-letters: the DLQ is not empty', () => {
    const a = alarm('dead-letters');
    expect(a).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(a.Dimensions[0].Value).toEqual({ 'Fn::GetAtt': ['ChangeDeadLetterQueue', 'QueueName'] });
  });

  it('permanent-failures: any failed outcome within the last hour', () => {
    const a = alarm('permanent-failures');
    expect(metricsOf(a)).toEqual([ours(METRIC.syncResults, 'Result=failed')]);
    expect(a.Period * a.EvaluationPeriods).toBe(3600);
    expect(a).toMatchObject({ Statistic: 'Sum', DatapointsToAlarm: 1, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('callback-rejections: bad_signature and owner_key_mismatch above the threshold', () => {
    const a = alarm('callback-rejections');
    expect(metricsOf(a).sort()).toEqual(
      [ours(METRIC.callbackRejected, 'Reason=bad_signature'), ours(METRIC.callbackRejected, 'Reason=owner_key_mismatch')].sort(),
    );
    expect(a.Threshold).toBe(10);
    expect(a.Metrics.find((m: Cfn) => m.ReturnData).Expression).toBe('FILL(badSignature, 0) + FILL(ownerKeyMismatch, 0)');
  });

  it('callback-errors: 5xx answers, or the function failing', () => {
    expect(metricsOf(alarm('callback-errors'))).toEqual([ours(METRIC.callbackServerErrors), `AWS/Lambda Errors FunctionName=${SERVICE}-callback`]);
  });

  it('reconcile: a run failed or blocked, or the function crashed', () => {
    expect(metricsOf(alarm('reconcile'))).toEqual([
      ours(METRIC.reconcileRuns, 'Status=failed'),
      ours(METRIC.reconcileRuns, 'Status=blocked'),
      `AWS/Lambda Errors FunctionName=${SERVICE}-reconcile`,
      // A failed or blocked run also logs at error level: counted by the ReconcileErrorLines filter.
      'DingTalkWeComSync/test ReconcileErrorLines',
    ]);
  });

  it('propagation: p99 of DingTalk event → WeCom write above the threshold, in seconds', () => {
    const a = alarm('propagation');
    expect(metricsOf(a)).toEqual([ours(METRIC.propagationLatency)]);
    expect(a.Metrics[0].MetricStat.Stat).toBe('p99');
    expect(a.Metrics.find((m: Cfn) => m.ReturnData).Expression).toBe('latency / 1000');
    expect(a.Threshold).toBe(300);
  });

  it('the functions write the service dimension the alarms watch, and the history TTL the stage sets', () => {
    for (const fn of ['CallbackLambdaFunction', 'SyncLambdaFunction', 'ReconcileLambdaFunction']) {
      expect(template.Resources[fn]!.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe(SERVICE);
    }
    for (const fn of ['SyncLambdaFunction', 'ReconcileLambdaFunction']) {
      expect(template.Resources[fn]!.Properties.Environment.Variables.HISTORY_TTL_DAYS).toBe('180');
      expect(withParams.Resources[fn]!.Properties.Environment.Variables.HISTORY_TTL_DAYS).toBe('30');
    }
  });
});

describe('the dashboard and the saved queries', () => {
  it('charts every metric the code writes, the queues, and the alarms', () => {
    const [body, vars] = template.Resources.Dashboard!.Properties.DashboardBody['Fn::Sub'];
    expect(vars).toEqual({ Service: SERVICE });
    const dashboard = JSON.parse(body.replace(/\$\{[^}]+\}/g, 'X'));
    const text = JSON.stringify(dashboard);
    for (const name of Object.values(METRIC)) expect(text).toContain(name);
    expect(text).toContain('ApproximateAgeOfOldestMessage');
    const alarmWidget = dashboard.widgets.find((w: Cfn) => w.type === 'alarm');
    expect(alarmWidget.properties.alarms).toHaveLength(byType(template, 'AWS::CloudWatch::Alarm').length);
  });

  it('saves the queries the README names, over the functions’ log groups, on lines the code writes', () => {
    const queries = new Map(byType(template, 'AWS::Logs::QueryDefinition').map(([, q]) => [q.Properties.Name.replace(`${SERVICE}/`, ''), q.Properties]));
    expect([...queries.keys()].sort()).toEqual(
      ['entity trail by userid', "one change's trail by correlation id", 'permanent failures', 'rejected callbacks', 'slowest propagations'].sort(),
    );
    const logGroups = new Set(byType(template, 'AWS::Logs::LogGroup').map(([, g]) => g.Properties.LogGroupName));
    for (const q of queries.values()) for (const g of q.LogGroupNames) expect(logGroups).toContain(g);
    // The messages and fields the queries filter on are the ones the code logs.
    const source = sourceText('lib');
    for (const q of queries.values()) {
      for (const [, message] of q.QueryString.matchAll(/message = '([^']+)'/g)) expect(source).toContain(`'${message}'`);
    }
    expect(queries.get('entity trail by userid')!.QueryString).toMatch(/entity = 'user:USERID'/);
    expect(queries.get('slowest propagations')!.QueryString).toMatch(/sort propagationMs desc/);
    expect(source).toContain('propagationMs');
    expect(source).toContain('onTheWayOf');
  });
});

describe('the state table keeps the history', () => {
  it('declares the timeline index as the code creates it, and expires history items by TTL', () => {
    const table = template.Resources.StateTable!.Properties;
    expect(table.AttributeDefinitions).toEqual(stateTableDefinition.AttributeDefinitions);
    expect(table.KeySchema).toEqual(stateTableDefinition.KeySchema);
    expect(table.GlobalSecondaryIndexes).toEqual(stateTableDefinition.GlobalSecondaryIndexes);
    expect(table.GlobalSecondaryIndexes[0].IndexName).toBe(TIMELINE_INDEX);
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
  });

  it('lets the workers write history items (PutItem on the table)', () => {
    for (const role of ['SyncRole', 'ReconcileRole']) {
      const statements = template.Resources[role]!.Properties.Policies.flatMap((p: Cfn) => p.PolicyDocument?.Statement ?? []);
      const onTable = statements.filter((s: Cfn) => s.Resource && JSON.stringify(s.Resource).includes('StateTable'));
      expect(onTable.flatMap((s: Cfn) => [s.Action].flat())).toContain('dynamodb:PutItem');
    }
  });
});

describe('the callback keeps its small bundle', () => {
  it('writes EMF by hand, without Powertools Metrics; the workers carry Powertools', () => {
    const bundle = (fn: string) =>
      zipEntries(join(dir, 'default', 'pkg', `${fn}.zip`))
        .get(`handlers/${fn}.js`)!
        .toString('utf8');
    const callback = bundle('callback');
    expect(callback).toContain('CloudWatchMetrics');
    expect(callback).not.toContain('captureColdStartMetric');
    for (const worker of ['sync', 'reconcile']) expect(bundle(worker)).toContain('captureColdStartMetric');
  });
});

/** Every .ts file's text under `root`. */
function sourceText(root: string): string {
  return readdirSync(root)
    .map((name) => join(root, name))
    .map((path) => (statSync(path).isDirectory() ? sourceText(path) : path.endsWith('.ts') ? readFileSync(path, 'utf8') : ''))
    .join('\n');
}
