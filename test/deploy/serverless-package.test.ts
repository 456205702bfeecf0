/**
 * `serverless package` must work offline with no AWS credentials; the generated CloudFormation
 * template is then checked for what the design and a production deploy need, for both network
 * settings: `fixedEgressIp` true (the default: VPC, NAT gateway, Elastic IP) and false (no
 * network resources, a customer-managed KMS key, and the longest stage name allowed).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byType, type Cfn, evaluate, type PackagedStack, packageStack, statementsOf, target, zipEntries } from './packaged-stack';

/** The longest stage whose names fit AWS's limits: `dingtalk-wecom-sync-<stage>-reconcile` ≤ 64. */
const LONGEST_STAGE = 'a'.repeat(34);
const KMS_KEY = 'arn:aws:kms:ap-southeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

let fixed: PackagedStack;
let lean: PackagedStack;

beforeAll(async () => {
  // One after the other: two shared cores, and each run bundles three functions.
  fixed = await packageStack('test');
  lean = await packageStack(LONGEST_STAGE, { fixedEgressIp: 'false', secondNatGateway: 'true', kmsKeyArn: KMS_KEY });
}, 300_000);

afterAll(() => {
  fixed?.remove();
  lean?.remove();
});

/** Both packaged settings, with the stage each was packaged for. */
const both = () => [
  { stage: 'test', ...fixed },
  { stage: LONGEST_STAGE, ...lean },
];

describe('serverless package (offline)', () => {
  it('routes POST /dingtalk/callback through an HTTP API to the callback function', () => {
    for (const { stack } of both()) {
      const routes = byType(stack, 'AWS::ApiGatewayV2::Route');
      expect(routes.map(([, r]) => r.Properties.RouteKey)).toContain('POST /dingtalk/callback');
      const integration = byType(stack, 'AWS::ApiGatewayV2::Integration')[0]![1];
      expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
      expect(JSON.stringify(integration.Properties.IntegrationUri)).toContain('CallbackLambdaFunction');
    }
  });

  it('declares a FIFO change queue with a FIFO dead-letter queue after 5 receives', () => {
    const queue = fixed.stack.Resources.ChangeQueue!;
    const dlq = fixed.stack.Resources.ChangeDeadLetterQueue!;
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties.FifoQueue).toBe(true);
    expect(dlq.Properties.FifoQueue).toBe(true);
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(target(queue.Properties.RedrivePolicy.deadLetterTargetArn)).toBe('ChangeDeadLetterQueue');
  });

  it('gives the callback only SendMessage on that queue', () => {
    for (const { stack } of both()) {
      const fn = stack.Resources.CallbackLambdaFunction!;
      expect(target(fn.Properties.Role)).toBe('CallbackRole');
      const statements = statementsOf(stack, 'CallbackRole');
      const sqs = statements.filter((s: Cfn) => JSON.stringify(s.Action).includes('sqs:'));
      expect(sqs).toHaveLength(1);
      expect(sqs[0].Action).toBe('sqs:SendMessage');
      expect(target(sqs[0].Resource)).toBe('ChangeQueue');
      expect(JSON.stringify(statements)).not.toContain('"*"');
    }
  });

  it('runs the functions on nodejs22.x, each from its own zip', () => {
    const fns = byType(fixed.stack, 'AWS::Lambda::Function');
    expect(fns.map(([name]) => name).sort()).toEqual(['CallbackLambdaFunction', 'DoctorLambdaFunction', 'ReconcileLambdaFunction', 'SyncLambdaFunction']);
    for (const [, fn] of fns) expect(fn.Properties.Runtime).toBe('nodejs22.x');
    for (const f of ['callback', 'sync', 'reconcile', 'doctor']) expect(zipEntries(join(fixed.dir, `${f}.zip`)).has(`handlers/${f}.js`)).toBe(true);
  });

  it('ships the callback as a minified bundle without the worker’s dependencies (cold start)', () => {
    const bundle = zipEntries(join(fixed.dir, 'callback.zip')).get('handlers/callback.js')!.toString('utf8');
    expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(1000); // minified: few, very long lines
    expect(bundle).toContain('SendMessageBatch');
    for (const absent of ['DynamoDB', 'SqsFifoPartialProcessor', 'WeComSimulator', 'department/create']) expect(bundle).not.toContain(absent);
  });

  it('triggers the sync function from the queue with partial batch responses, batch size 10', () => {
    const mapping = byType(fixed.stack, 'AWS::Lambda::EventSourceMapping')[0]![1];
    expect(target(mapping.Properties.EventSourceArn)).toBe('ChangeQueue');
    expect(mapping.Properties.BatchSize).toBe(10);
    expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(mapping.Properties.ScalingConfig.MaximumConcurrency).toBeGreaterThan(1);
    const syncTimeout = fixed.stack.Resources.SyncLambdaFunction!.Properties.Timeout;
    expect(fixed.stack.Resources.ChangeQueue!.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * syncTimeout);
  });

  it('passes the rate budget to both workers, with the sync trigger’s own maximumConcurrency, and the queue for throttled changes', () => {
    const mapping = byType(fixed.stack, 'AWS::Lambda::EventSourceMapping')[0]![1];
    for (const fn of ['SyncLambdaFunction', 'ReconcileLambdaFunction']) {
      const vars = fixed.stack.Resources[fn]!.Properties.Environment.Variables;
      expect(Number(vars.DINGTALK_CALLS_PER_SECOND)).toBeLessThanOrEqual(20);
      expect(Number(vars.WECOM_CALLS_PER_MINUTE)).toBeLessThanOrEqual(10_000);
      expect(Number(vars.SYNC_MAX_CONCURRENCY)).toBe(mapping.Properties.ScalingConfig.MaximumConcurrency);
      expect(Number(vars.RECONCILE_RATE_SHARE)).toBeGreaterThanOrEqual(1);
      expect(target(vars.QUEUE_URL)).toBe('ChangeQueue');
    }
  });

  it('declares an on-demand state table the workers may use, and a schedule for the reconcile', () => {
    const table = fixed.stack.Resources.StateTable!;
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    const rules = byType(fixed.stack, 'AWS::Events::Rule');
    expect(rules.some(([, r]) => /rate|cron/.test(r.Properties.ScheduleExpression))).toBe(true);
    const syncStatements = statementsOf(fixed.stack, 'SyncRole');
    expect(syncStatements.some((s: Cfn) => target(s.Resource) === 'StateTable')).toBe(true);
  });

  it('gives the workers (and the doctor function, which checks their IP) a fixed egress IP for WeCom’s trusted-IP list', () => {
    expect(byType(fixed.stack, 'AWS::EC2::NatGateway')).toHaveLength(1);
    expect(byType(fixed.stack, 'AWS::EC2::EIP')).toHaveLength(1);
    for (const fn of ['SyncLambdaFunction', 'ReconcileLambdaFunction', 'DoctorLambdaFunction']) {
      const vpc = fixed.stack.Resources[fn]!.Properties.VpcConfig;
      expect(vpc.SubnetIds.map(target)).toEqual(['PrivateSubnetA', 'PrivateSubnetB']);
      expect(vpc.SecurityGroupIds.map(target)).toEqual(['WorkerSecurityGroup']);
    }
    expect(fixed.stack.Outputs).toHaveProperty('WeComTrustedIp');
    expect(fixed.stack.Outputs).not.toHaveProperty('WeComTrustedIpB');
  });
});

describe('deploy and remove reliably', () => {
  it('creates the NAT gateways and Elastic IPs only after the internet gateway is attached (and removes them before it is detached)', () => {
    const withSecondNat = evaluate(fixed.raw, { SecondNatGateway: 'true' });
    const dependent = [...byType(withSecondNat, 'AWS::EC2::NatGateway'), ...byType(withSecondNat, 'AWS::EC2::EIP')];
    expect(dependent.map(([name]) => name).sort()).toEqual(['EgressIp', 'EgressIpB', 'NatGateway', 'NatGatewayB']);
    for (const [, r] of dependent) expect([r.DependsOn].flat()).toContain('InternetGatewayAttachment');
  });

  it('keeps the state table and the Elastic IPs WeCom trusts when the stack is removed or a resource replaced', () => {
    for (const { raw } of both()) {
      const table = raw.Resources.StateTable!;
      expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      for (const [, eip] of byType(raw, 'AWS::EC2::EIP')) expect(eip).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('packages the longest stage name whose function and queue names fit AWS’s limits', () => {
    const names = byType(lean.stack, 'AWS::Lambda::Function').map(([, fn]) => fn.Properties.FunctionName as string);
    expect(Math.max(...names.map((n) => n.length))).toBe(64);
    for (const [, q] of byType(lean.stack, 'AWS::SQS::Queue')) expect(q.Properties.QueueName.length).toBeLessThanOrEqual(80);
  });

  it('refuses a longer stage name at package time, saying which name is too long and what fits', async () => {
    const stage = 'b'.repeat(40);
    await expect(packageStack(stage)).rejects.toThrow(
      `Stage name "${stage}" is too long: the Lambda function name "dingtalk-wecom-sync-${stage}-reconcile" would be 70 characters, over AWS's limit of 64. Use a stage name of at most 34 characters.`,
    );
  }, 120_000);
});

describe('pay only for what you use', () => {
  it('switches every network resource with the fixedEgressIp parameter, packaged as the stage set it', () => {
    expect(fixed.raw.Parameters.FixedEgressIp!.Default).toBe('true');
    expect(lean.raw.Parameters.FixedEgressIp!.Default).toBe('false');
    const network = Object.entries(fixed.raw.Resources).filter(([, r]) => r.Type.startsWith('AWS::EC2::'));
    expect(network.length).toBeGreaterThan(15);
    for (const [name, r] of network) expect([name, r.Condition]).toEqual([name, expect.stringMatching(/^(FixedEgressIp|SecondNatGateway)$/)]);
  });

  it('fixedEgressIp=false: no VPC, NAT gateway or Elastic IP, and the workers run outside a VPC', () => {
    expect(Object.values(lean.stack.Resources).filter((r) => r.Type.startsWith('AWS::EC2::'))).toEqual([]);
    // secondNatGateway=true was asked for too: it needs the fixed egress IP, so it adds nothing.
    expect(lean.raw.Parameters.SecondNatGateway!.Default).toBe('true');
    for (const fn of ['SyncLambdaFunction', 'ReconcileLambdaFunction', 'DoctorLambdaFunction'])
      expect(lean.stack.Resources[fn]!.Properties).not.toHaveProperty('VpcConfig');
    for (const role of ['SyncRole', 'ReconcileRole', 'DoctorRole']) expect(JSON.stringify(statementsOf(lean.stack, role))).not.toContain('ec2:');
    expect(Object.keys(lean.stack.Outputs).filter((o) => o.startsWith('WeComTrustedIp'))).toEqual([]);
  });

  it('secondNatGateway=true: a second NAT gateway and Elastic IP in the other zone, the second private subnet routed through it', () => {
    const stack = evaluate(fixed.raw, { SecondNatGateway: 'true' });
    const r = stack.Resources;
    const zoneOf = (subnet: string) => r[subnet]!.Properties.AvailabilityZone['Fn::Select'][0];
    expect([zoneOf(r.NatGateway!.Properties.SubnetId.Ref), zoneOf(r.NatGatewayB!.Properties.SubnetId.Ref)]).toEqual([0, 1]);
    expect(target(r.NatGatewayB!.Properties.AllocationId)).toBe('EgressIpB');
    expect(target(r.PrivateSubnetBRoutes!.Properties.RouteTableId)).toBe('PrivateRouteTableB');
    expect(target(r.PrivateDefaultRouteB!.Properties.NatGatewayId)).toBe('NatGatewayB');
    expect(zoneOf('PrivateSubnetB')).toBe(1);
    expect(r.DynamoDbEndpoint!.Properties.RouteTableIds.map(target)).toEqual(['PrivateRouteTable', 'PrivateRouteTableB']);
    expect(stack.Outputs).toHaveProperty('WeComTrustedIpB');
    // Without it, both private subnets leave through the one NAT gateway.
    expect(target(fixed.stack.Resources.PrivateSubnetBRoutes!.Properties.RouteTableId)).toBe('PrivateRouteTable');
  });
});

describe('least privilege', () => {
  const pathOf = (stack: PackagedStack['stack'], fn: string) => stack.Resources[fn]!.Properties.Environment.Variables.SECRETS_SSM_PATH;

  it('reads the secrets from one SSM path per function group, each role scoped to its own path', () => {
    for (const { stack, stage } of both()) {
      const own = { CallbackLambdaFunction: 'callback', SyncLambdaFunction: 'worker', ReconcileLambdaFunction: 'worker', DoctorLambdaFunction: 'worker' };
      for (const [fn, group] of Object.entries(own)) {
        expect(pathOf(stack, fn)).toBe(`/dingtalk-wecom-sync/${stage}/${group}`);
        const role = target(stack.Resources[fn]!.Properties.Role)!;
        const ssm = statementsOf(stack, role).filter((s: Cfn) => JSON.stringify(s.Action).includes('ssm:'));
        expect(ssm.map((s: Cfn) => [s.Action, s.Resource['Fn::Sub']])).toEqual([
          ['ssm:GetParametersByPath', `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/dingtalk-wecom-sync/${stage}/${group}`],
        ]);
      }
    }
  });

  it('decrypts with a customer-managed KMS key only when one is given, and only through SSM, for the role’s own path', () => {
    for (const role of ['CallbackRole', 'SyncRole', 'ReconcileRole', 'DoctorRole']) {
      expect(JSON.stringify(statementsOf(fixed.stack, role))).not.toContain('kms:');
      const kms = statementsOf(lean.stack, role).filter((s: Cfn) => JSON.stringify(s.Action).includes('kms:'));
      expect(kms).toHaveLength(1);
      expect(kms[0].Action).toBe('kms:Decrypt');
      expect(target(kms[0].Resource)).toBe('KmsKeyArn');
      expect(kms[0].Condition.StringEquals['kms:ViaService']).toEqual({ 'Fn::Sub': `ssm.\${AWS::Region}.amazonaws.com` });
      const group = role === 'CallbackRole' ? 'callback' : 'worker';
      expect(kms[0].Condition.StringLike['kms:EncryptionContext:PARAMETER_ARN']['Fn::Sub']).toMatch(
        new RegExp(`parameter/dingtalk-wecom-sync/a+/${group}/\\*$`),
      );
    }
    expect(lean.raw.Parameters.KmsKeyArn!.Default).toBe(KMS_KEY);
  });

  it('attaches no managed policy; each role writes only its function’s log group, and only the VPC functions touch network interfaces', () => {
    for (const { stack } of both()) {
      for (const [fn, group] of [
        ['CallbackLambdaFunction', 'CallbackLogGroup'],
        ['SyncLambdaFunction', 'SyncLogGroup'],
        ['ReconcileLambdaFunction', 'ReconcileLogGroup'],
        ['DoctorLambdaFunction', 'DoctorLogGroup'],
      ] as const) {
        const role = stack.Resources[target(stack.Resources[fn]!.Properties.Role)!]!;
        expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
        const statements = statementsOf(stack, target(stack.Resources[fn]!.Properties.Role)!);
        const logs = statements.filter((s: Cfn) => JSON.stringify(s.Action).includes('logs:'));
        expect(logs.map((s: Cfn) => [s.Action, target(s.Resource)])).toEqual([[['logs:CreateLogStream', 'logs:PutLogEvents'], group]]);
        // "*" only where EC2 offers nothing narrower: the network interfaces of a VPC function.
        const anywhere = statements.filter((s: Cfn) => s.Resource === '*');
        const inVpc = stack.Resources[fn]!.Properties.VpcConfig !== undefined;
        expect(anywhere.flatMap((s: Cfn) => s.Action).every((a: string) => a.startsWith('ec2:'))).toBe(true);
        expect(anywhere.length > 0).toBe(inVpc);
      }
    }
  });
});

describe('the public endpoint', () => {
  it('throttles the HTTP API stage and writes an access log', () => {
    for (const { stack } of both()) {
      const stage = stack.Resources.HttpApiStage!.Properties;
      // DingTalk pushes a few requests a second at most; the defaults leave ample room above that.
      expect(stage.DefaultRouteSettings.ThrottlingRateLimit).toBeGreaterThanOrEqual(20);
      expect(stage.DefaultRouteSettings.ThrottlingBurstLimit).toBeGreaterThanOrEqual(stage.DefaultRouteSettings.ThrottlingRateLimit);
      expect(target(stage.AccessLogSettings.DestinationArn)).toBe('HttpApiLogGroup');
      expect(JSON.parse(stage.AccessLogSettings.Format)).toMatchObject({ ip: '$context.identity.sourceIp', status: '$context.status' });
      expect(stack.Resources.HttpApiLogGroup!.Properties.RetentionInDays).toBe(30);
    }
  });
});

describe('time and retries', () => {
  it('invokes the scheduled reconcile without Lambda’s two automatic retries', () => {
    for (const { stack } of both()) {
      const configs = byType(stack, 'AWS::Lambda::EventInvokeConfig');
      expect(configs.map(([, c]) => [target(c.Properties.FunctionName), c.Properties.MaximumRetryAttempts])).toEqual([['ReconcileLambdaFunction', 0]]);
    }
  });

  it('alarms instead: on a reconcile that crashed, or logged an error (failed, blocked by the deletion guard)', () => {
    const filter = fixed.stack.Resources.ReconcileErrorLines!.Properties;
    expect(target(filter.LogGroupName)).toBe('ReconcileLogGroup');
    expect(filter.FilterPattern).toBe('{ $.level = "error" }');
    const metrics = fixed.stack.Resources.ReconcileAlarm!.Properties.Metrics;
    const stat = (id: string) => metrics.find((m: Cfn) => m.Id === id).MetricStat.Metric;
    expect(stat('crashed')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: 'dingtalk-wecom-sync-test-reconcile' }],
    });
    expect(stat('errorLines')).toEqual({ Namespace: filter.MetricTransformations[0].MetricNamespace, MetricName: filter.MetricTransformations[0].MetricName });
    expect(metrics.find((m: Cfn) => m.ReturnData).Expression).toBe('FILL(failed, 0) + FILL(blocked, 0) + FILL(crashed, 0) + FILL(errorLines, 0)');
  });

  it('keeps source maps for the workers and leaves them out of the callback', () => {
    for (const { stack, dir } of both()) {
      const env = (fn: string) => stack.Resources[fn]!.Properties.Environment.Variables;
      expect(env('CallbackLambdaFunction')).not.toHaveProperty('NODE_OPTIONS');
      expect([...zipEntries(join(dir, 'callback.zip')).keys()]).toEqual(['handlers/callback.js']);
      for (const f of ['sync', 'reconcile']) {
        expect(env(`${f[0]!.toUpperCase()}${f.slice(1)}LambdaFunction`).NODE_OPTIONS).toBe('--enable-source-maps');
        expect(zipEntries(join(dir, `${f}.zip`)).has(`handlers/${f}.js.map`)).toBe(true);
      }
    }
  });
});

/** cfn-lint is a Python tool: present on CI machines, often not on a laptop. */
const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });

describe('cfn-lint', () => {
  it('finds no error or warning in either packaged template', ({ skip }) => {
    if (cfnLint.error) skip('cfn-lint is not on PATH (pip install cfn-lint); the other deploy checks still ran');
    for (const { dir } of both()) {
      // Exit 0 only when cfn-lint reports nothing at error or warning level.
      const lint = spawnSync('cfn-lint', ['--', join(dir, 'cloudformation-template-update-stack.json')], { encoding: 'utf8' });
      expect({ status: lint.status, output: lint.stdout + lint.stderr }).toEqual({ status: 0, output: '' });
    }
  }, 120_000);
});
