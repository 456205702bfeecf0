/**
 * `npm run doctor -- --stage`: the stage as the operator's AWS clients see it. CloudFormation,
 * Lambda, SSM and EventBridge are faked (they cannot run here); the dead-letter queue is
 * local-aws-sqs, the state table dynalite, the callback a real receiver over HTTP, and the
 * doctor function is the real handler running against the sandbox simulators.
 */
import type { Server } from 'node:http';
import { CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler as doctorFunction } from '../../handlers/doctor';
import { DynamoStateStore } from '../../lib/aws/dynamo-store';
import { type StageClients, StageInspector } from '../../lib/aws/stage-inspector';
import { loadCallbackConfig } from '../../lib/config';
import { createCallbackHandler } from '../../lib/dingtalk/receiver';
import type { DoctorReport } from '../../lib/doctor/check';
import { stageDoctor } from '../../lib/doctor/stage-doctor';
import { startDevServer } from '../../lib/local/dev-server';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { createMemoryLogger } from '../../lib/log';
import { SANDBOX_ENV } from '../../lib/sandbox/seed';
import { type Simulators, startSimulators } from '../../lib/sandbox/simulators';
import { awsError, fakeClient, localAwsServers } from '../support/fake-aws';

const CALLBACK_PATH = '/dingtalk-wecom-sync/test/callback';
const CALLBACK_PARAMS = {
  DINGTALK_TOKEN: SANDBOX_ENV.DINGTALK_TOKEN,
  DINGTALK_AES_KEY: SANDBOX_ENV.DINGTALK_AES_KEY,
  DINGTALK_OWNER_KEY: SANDBOX_ENV.DINGTALK_OWNER_KEY,
};

let aws: Awaited<ReturnType<typeof localAwsServers>>;
let sims: Simulators;
let callbackServer: Server;
let callbackUrl: string;
let dlqUrl: string;

/** What the fakes answer; each test changes what it injects. */
let stage: {
  outputs: Record<string, string> | Error;
  callbackParams: Record<string, string>;
  ruleState: string;
  doctor: 'real' | Error;
  workerEnv: Record<string, string>;
};

beforeAll(async () => {
  aws = await localAwsServers();
  sims = await startSimulators();
  const config = loadCallbackConfig({ ...CALLBACK_PARAMS, CALLBACK_MAX_SKEW_SECONDS: '300' });
  const server = await startDevServer(
    [{ method: 'POST', path: '/dingtalk/callback', handler: createCallbackHandler({ config, queue: new InProcessQueue(), logger: createMemoryLogger() }) }],
    0,
  );
  callbackServer = server.server;
  callbackUrl = `${server.url}/dingtalk/callback`;
  dlqUrl = (await aws.sqs.send(new CreateQueueCommand({ QueueName: 'dlq.fifo', Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  healthyStage();
});

afterAll(async () => {
  await new Promise((r) => callbackServer.close(r));
  await Promise.all([aws.close(), sims.stop()]);
});

function healthyStage() {
  stage = {
    outputs: {
      CallbackUrl: callbackUrl,
      DeadLetterQueueUrl: dlqUrl,
      ChangeQueueUrl: 'https://sqs/changes.fifo',
      StateTableName: 'state',
      WeComTrustedIp: '127.0.0.1',
    },
    callbackParams: { ...CALLBACK_PARAMS },
    ruleState: 'ENABLED',
    doctor: 'real',
    workerEnv: { ...sims.env },
  };
}
afterEach(() => {
  healthyStage();
  sims.wecom.requireTrustedIp = false;
});

/** Runs the real doctor handler with the workers' settings as its environment (what SSM gives it in AWS). */
async function invokeDoctorFunction(): Promise<unknown> {
  const saved = { ...process.env };
  Object.assign(process.env, stage.workerEnv);
  delete process.env.SECRETS_SSM_PATH;
  try {
    return await doctorFunction();
  } finally {
    process.env = saved;
  }
}

function clients(): StageClients {
  return {
    region: 'ap-southeast-1',
    cloudformation: fakeClient({
      DescribeStacksCommand: () => {
        if (stage.outputs instanceof Error) throw stage.outputs;
        return { Stacks: [{ Outputs: Object.entries(stage.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] };
      },
      DescribeStackResourcesCommand: () => ({
        StackResources: [
          { LogicalResourceId: 'StateTable', ResourceType: 'AWS::DynamoDB::Table', PhysicalResourceId: 'state' },
          {
            LogicalResourceId: 'ReconcileEventsRuleSchedule1',
            ResourceType: 'AWS::Events::Rule',
            PhysicalResourceId: 'dingtalk-wecom-sync-test-ReconcileEventsRuleSchedule1-X',
          },
        ],
      }),
    }),
    eventbridge: fakeClient({ DescribeRuleCommand: () => ({ State: stage.ruleState, ScheduleExpression: 'rate(1 day)' }) }),
    ssm: fakeClient({
      GetParametersByPathCommand: (input) => {
        expect(input).toMatchObject({ Path: CALLBACK_PATH, WithDecryption: true });
        return { Parameters: Object.entries(stage.callbackParams).map(([k, v]) => ({ Name: `${CALLBACK_PATH}/${k}`, Value: v })) };
      },
    }),
    lambda: fakeClient({
      GetFunctionConfigurationCommand: (input) => {
        expect(input.FunctionName).toBe('dingtalk-wecom-sync-test-callback');
        return { Environment: { Variables: { SECRETS_SSM_PATH: CALLBACK_PATH, CALLBACK_MAX_SKEW_SECONDS: '300' } } };
      },
      InvokeCommand: async (input) => {
        expect(input).toMatchObject({ FunctionName: 'dingtalk-wecom-sync-test-doctor', InvocationType: 'RequestResponse' });
        if (stage.doctor instanceof Error) throw stage.doctor;
        return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(await invokeDoctorFunction())) };
      },
    }),
    sqs: aws.sqs,
    dynamodb: aws.dynamodb,
  };
}

async function doctor(): Promise<DoctorReport & { byId(id: string): DoctorReport['checks'][number]; failed: string[] }> {
  const report = await stageDoctor({ inspector: new StageInspector('test', clients()) });
  return {
    ...report,
    byId: (id) => report.checks.find((c) => c.id === id) ?? expect.fail(`no check ${id}: ${report.checks.map((c) => c.id)}`),
    failed: report.checks.filter((c) => c.status === 'fail').map((c) => c.id),
  };
}

it('a healthy stage: the stack, its parameters, the doctor function’s checks, the callback, the queue; no first import yet is a note with the command', async () => {
  const r = await doctor();
  expect(r.failed).toEqual([]);
  expect(r.ok).toBe(true);
  expect(r.target).toBe('stage test (stack dingtalk-wecom-sync-test, ap-southeast-1)');
  for (const id of [
    'settings.stack',
    'settings.callback',
    'settings.worker',
    'dingtalk.credentials',
    'dingtalk.scope.1',
    'dingtalk.owner-key',
    'wecom.contact-secret',
    'queue.dead-letters',
    'queue.schedule',
  ]) {
    expect([id, r.byId(id).status]).toEqual([id, 'pass']);
  }
  expect(r.byId('wecom.trusted-ip').detail).toBe("WeCom accepted contact-sync calls from the workers' network (the doctor function)");
  expect(r.byId('callback.check-url').detail).toContain(callbackUrl);
  expect(r.byId('callback.clock').detail).toMatch(/^window 300 s; callback clock [+−]\d+\.\d s against this machine$/);
  expect(r.byId('queue.schedule').detail).toContain('rate(1 day)');
  expect(r.byId('queue.first-import')).toMatchObject({ status: 'note', fix: 'run the first import: npm run first-import -- --stage test' });
});

describe('what goes wrong on a stage is named with its fix', () => {
  it('no stack: one ✗ with the deploy command', async () => {
    stage.outputs = awsError('ValidationError', 'Stack with id dingtalk-wecom-sync-test does not exist');
    const r = await doctor();
    expect(r.checks).toEqual([
      expect.objectContaining({
        id: 'settings.stack',
        status: 'fail',
        detail: expect.stringContaining('does not exist'),
        fix: 'npx serverless deploy --stage test',
      }),
    ]);
  });

  it('a missing callback parameter: the put-parameter line for its path', async () => {
    delete stage.callbackParams.DINGTALK_OWNER_KEY;
    const r = await doctor();
    expect(r.byId('settings.DINGTALK_OWNER_KEY')).toMatchObject({
      status: 'fail',
      fix: `aws ssm put-parameter --overwrite --type SecureString --name ${CALLBACK_PATH}/DINGTALK_OWNER_KEY --value '…'`,
    });
    expect(r.byId('callback.check-url').status).toBe('skip');
  });

  it('a missing worker parameter, as the doctor function reports it', async () => {
    delete stage.workerEnv.WECOM_CONTACT_SECRET;
    const r = await doctor();
    expect(r.byId('settings.WECOM_CONTACT_SECRET')).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(/^aws ssm put-parameter --overwrite --type SecureString --name .*\/WECOM_CONTACT_SECRET/),
    });
  });

  it('the workers’ IP untrusted: 60020 from the doctor function names the IP WeCom saw; without a fixed egress IP the fix says so', async () => {
    sims.wecom.requireTrustedIp = true;
    expect((await doctor()).byId('wecom.trusted-ip')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining("from the workers' network (the doctor function) answered 60020"),
      fix: expect.stringMatching(/^add 127\.0\.0\.1 to 企业可信IP/),
    });
    const { WeComTrustedIp: _, ...withoutIp } = stage.outputs as Record<string, string>;
    stage.outputs = withoutIp;
    expect((await doctor()).byId('wecom.trusted-ip').fix).toMatch(/no fixed egress IP \(fixedEgressIp: false\)/);
  });

  it('an owner key that is not the AppKey the workers use', async () => {
    stage.callbackParams.DINGTALK_OWNER_KEY = 'dingsomeoneelse';
    expect((await doctor()).byId('dingtalk.owner-key').status).toBe('fail');
  });

  it('a stack deployed before the doctor function: ✗ saying to deploy this version', async () => {
    stage.doctor = awsError('ResourceNotFoundException', 'Function not found: dingtalk-wecom-sync-test-doctor');
    const r = await doctor();
    expect(r.byId('wecom.doctor-function')).toMatchObject({ status: 'fail', fix: 'deploy this version, which adds it: npx serverless deploy --stage test' });
  });

  it('dead letters, a disabled schedule and a failed last reconcile', async () => {
    for (const i of [1, 2])
      await aws.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: `m${i}`, MessageGroupId: 'g', MessageDeduplicationId: `d${i}` }));
    stage.ruleState = 'DISABLED';
    await new DynamoStateStore({ tableName: 'state', client: aws.dynamodb }).putReport({
      runId: 'r',
      startedAt: 1,
      finishedAt: 2,
      status: 'failed',
      dryRun: false,
      counts: {},
      errors: [],
      message: 'could not read the directories: wecom user/list_id failed: errcode 60020',
    });
    const r = await doctor();
    expect(r.byId('queue.dead-letters')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^2 change messages/),
      fix: expect.stringContaining(`DLQ_URL=${dlqUrl} npm run redrive`),
    });
    expect(r.byId('queue.schedule')).toMatchObject({ status: 'note', fix: expect.stringContaining('reconcileEnabled: true') });
    expect(r.byId('queue.first-import')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('60020'),
      fix: expect.stringContaining('npm run first-import -- --stage test'),
    });
    expect(r.ok).toBe(false);
  });
});
