/**
 * Each function's role grants exactly the AWS actions its code calls (test/deploy/sdk-calls.ts
 * reads them from the handler's bundle), plus what the Lambda service itself does with the role,
 * listed below. A granted action nothing calls fails, and so does a call the role does not allow.
 *
 * When the code starts calling something new (say a store method that queries DynamoDB), this
 * fails until the role grants it (serverless.yml) and, for a new kind of command, COMMAND_ACTIONS
 * maps it; nothing else here changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cfn, type PackagedStack, packageStack, statementsOf, target } from './packaged-stack';
import { analyseHandlers, type HandlerCalls } from './sdk-calls';

const FUNCTIONS = {
  callback: 'CallbackLambdaFunction',
  sync: 'SyncLambdaFunction',
  reconcile: 'ReconcileLambdaFunction',
  doctor: 'DoctorLambdaFunction',
} as const;
type FunctionName = keyof typeof FUNCTIONS;

/** What Lambda does with a function's role, beyond the function's own code. */
const LAMBDA_SERVICE = {
  /** Writing the function's logs to its log group. */
  logs: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  /** An SQS event source mapping polls, deletes and reads attributes with the function's role. */
  sqsTrigger: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
  /** A function in a VPC: Lambda creates and removes its network interfaces with the role. */
  vpc: [
    'ec2:CreateNetworkInterface',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DescribeSubnets',
    'ec2:DeleteNetworkInterface',
    'ec2:AssignPrivateIpAddresses',
    'ec2:UnassignPrivateIpAddresses',
  ],
  /** SecureStrings under a customer-managed key: SSM decrypts them with the caller's permission. */
  customerKey: ['kms:Decrypt'],
};

let calls: Map<string, HandlerCalls>;
let fixed: PackagedStack;
let lean: PackagedStack;

beforeAll(async () => {
  calls = await analyseHandlers(Object.keys(FUNCTIONS).map((f) => `handlers/${f}.ts`));
  fixed = await packageStack('test');
  lean = await packageStack('test', { fixedEgressIp: 'false', kmsKeyArn: 'arn:aws:kms:ap-southeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' });
}, 300_000);

afterAll(() => {
  fixed?.remove();
  lean?.remove();
});

const callsOf = (fn: FunctionName) => calls.get(`handlers/${fn}.ts`)!;

/** Every action the role of `fn` grants in `stack`. */
function granted(stack: PackagedStack['stack'], fn: FunctionName): string[] {
  const role = target(stack.Resources[FUNCTIONS[fn]]!.Properties.Role)!;
  return [...new Set(statementsOf(stack, role).flatMap((s: Cfn) => [s.Action].flat() as string[]))].sort();
}

/** The actions the role of `fn` needs in `stack`: its code's calls and Lambda's own use. */
function needed(stack: PackagedStack['stack'], fn: FunctionName): string[] {
  const code = [...callsOf(fn).required.keys()];
  const fnResource = stack.Resources[FUNCTIONS[fn]]!;
  const triggeredByQueue = Object.values(stack.Resources).some(
    (r) =>
      r.Type === 'AWS::Lambda::EventSourceMapping' && target(r.Properties.FunctionName) === FUNCTIONS[fn] && /Queue/.test(target(r.Properties.EventSourceArn)!),
  );
  const customerKey = stack.Parameters.KmsKeyArn!.Default !== '' && code.includes('ssm:GetParametersByPath');
  return [
    ...new Set([
      ...code,
      ...LAMBDA_SERVICE.logs,
      ...(triggeredByQueue ? LAMBDA_SERVICE.sqsTrigger : []),
      ...(fnResource.Properties.VpcConfig ? LAMBDA_SERVICE.vpc : []),
      ...(customerKey ? LAMBDA_SERVICE.customerKey : []),
    ]),
  ].sort();
}

/** What the role grants beyond the need, and what it lacks. */
function compare(grants: string[], needs: string[]) {
  return { grantedButNeverCalled: grants.filter((a) => !needs.includes(a)), calledButNotGranted: needs.filter((a) => !grants.includes(a)) };
}

describe('each role grants only the actions its function calls', () => {
  for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) {
    it(`${fn}: fixedEgressIp=true (in a VPC) and fixedEgressIp=false with a customer-managed key`, () => {
      for (const { stack } of [fixed, lean]) {
        const diff = compare(granted(stack, fn), needed(stack, fn));
        // On failure, where the code makes each call it needs:
        expect(diff, JSON.stringify(Object.fromEntries(callsOf(fn).required), null, 2)).toEqual({ grantedButNeverCalled: [], calledButNotGranted: [] });
      }
    });
  }
});

describe('the analysis can tell', () => {
  it('finds the calls each handler makes: SSM secrets for all, the queue for the callback, the state table for the workers, nothing else for the doctor', () => {
    for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) expect(callsOf(fn).required.has('ssm:GetParametersByPath')).toBe(true);
    expect(callsOf('callback').required.has('sqs:SendMessage')).toBe(true);
    expect(callsOf('callback').files).not.toContain('lib/aws/dynamo-store.ts');
    for (const fn of ['sync', 'reconcile'] as const) expect(callsOf(fn).required.has('dynamodb:GetItem')).toBe(true);
    // The reconcile writes its progress for npm run first-import (PutItem, which its report needs too).
    expect(callsOf('reconcile').required.get('dynamodb:PutItem')).toContain('PutCommand in ReconcileProgressItem.put');
    expect([...callsOf('doctor').required.keys()]).toEqual(['ssm:GetParametersByPath']);
  });

  it('counts only the store and queue methods the code calls, not everything their classes could do', () => {
    // The sync bundles the whole DynamoDB store and the SQS queue adapter (lib/compose/aws.ts
    // builds both), yet calls fewer of their methods than they hold: bundling alone would grant more.
    const sync = callsOf('sync');
    expect(sync.files).toEqual(expect.arrayContaining(['lib/aws/dynamo-store.ts', 'lib/aws/sqs-queue.ts']));
    // The reconcile's own store methods are bundled with the sync but never called by it.
    expect([...sync.uncalled]).toEqual(expect.arrayContaining(['DynamoStateStore.putOutbox', 'DynamoStateStore.putReport']));
    const onlyBundled = [...sync.bundled].filter((a) => !sync.required.has(a));
    for (const action of onlyBundled) expect(granted(fixed.stack, 'sync')).not.toContain(action);
  });

  it('reports an action granted but never called, and one called but not granted', () => {
    const needs = needed(fixed.stack, 'sync');
    const [dropped] = needs;
    expect(compare([...needs.slice(1), 'dynamodb:BatchWriteItem'], needs)).toEqual({
      grantedButNeverCalled: ['dynamodb:BatchWriteItem'],
      calledButNotGranted: [dropped],
    });
  });
});
