/**
 * What the operator's commands read from a deployed stage (`npm run doctor -- --stage`,
 * `npm run first-import -- --stage`), with the operator's AWS credentials: the stack's outputs,
 * the functions' settings, the SSM parameters, the reconcile schedule, the dead-letter queue, the
 * state table's latest report and reconcile progress, and invocations of the doctor and reconcile
 * functions. Every client is injectable: tests fake the services that cannot run here and use
 * local SQS and DynamoDB servers for the rest.
 *
 * Names follow serverless.yml: stack `dingtalk-wecom-sync-<stage>`, functions
 * `dingtalk-wecom-sync-<stage>-<name>`; the SSM paths are read from the functions' own
 * SECRETS_SSM_PATH, so a stage with another `secretsPath` param is read where it really is.
 */
import { CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { RunReport } from '../ports';
import { DynamoStateStore } from './dynamo-store';
import { ReconcileProgressItem } from './reconcile-progress';

const SERVICE = 'dingtalk-wecom-sync';
/** serverless.yml's default region: `serverless deploy` without --region deploys there. */
const DEFAULT_REGION = 'ap-southeast-1';

type Sender = { send(command: unknown): Promise<unknown> };

/** The AWS clients the inspector uses; tests pass fakes or clients of local servers. */
export interface StageClients {
  region: string;
  cloudformation: Pick<CloudFormationClient, 'send'> | Sender;
  lambda: Pick<LambdaClient, 'send'> | Sender;
  ssm: Pick<SSMClient, 'send'> | Sender;
  eventbridge: Pick<EventBridgeClient, 'send'> | Sender;
  sqs: SQSClient;
  dynamodb: DynamoDBClient;
}

export function defaultStageClients(region = DEFAULT_REGION): StageClients {
  return {
    region,
    cloudformation: new CloudFormationClient({ region }),
    // A reconcile may run for its whole 15 minutes while the command waits for its answer.
    lambda: new LambdaClient({ region, requestHandler: { requestTimeout: 16 * 60_000 } }),
    ssm: new SSMClient({ region }),
    eventbridge: new EventBridgeClient({ region }),
    sqs: new SQSClient({ region }),
    dynamodb: new DynamoDBClient({ region }),
  };
}

/** A function answered with an error (FunctionError): its type and message. */
class FunctionFailedError extends Error {
  override readonly name = 'FunctionFailedError';
}

export class StageInspector {
  readonly stackName: string;

  constructor(
    readonly stage: string,
    private readonly clients: StageClients,
  ) {
    this.stackName = `${SERVICE}-${stage}`;
  }

  get region(): string {
    return this.clients.region;
  }

  functionName(fn: 'callback' | 'sync' | 'reconcile' | 'doctor'): string {
    return `${SERVICE}-${this.stage}-${fn}`;
  }

  /** The stack's outputs by key; throws when the stack does not exist (CloudFormation's ValidationError). */
  async outputs(): Promise<Record<string, string>> {
    const out = (await this.send('cloudformation', new DescribeStacksCommand({ StackName: this.stackName }))) as {
      Stacks?: { Outputs?: { OutputKey?: string; OutputValue?: string }[] }[];
    };
    return Object.fromEntries((out.Stacks?.[0]?.Outputs ?? []).filter((o) => o.OutputKey && o.OutputValue).map((o) => [o.OutputKey!, o.OutputValue!]));
  }

  /** A function's environment variables as deployed. */
  async functionEnvironment(fn: 'callback' | 'sync' | 'reconcile' | 'doctor'): Promise<Record<string, string>> {
    const out = (await this.send('lambda', new GetFunctionConfigurationCommand({ FunctionName: this.functionName(fn) }))) as {
      Environment?: { Variables?: Record<string, string> };
    };
    return out.Environment?.Variables ?? {};
  }

  /** The parameters directly under `path`, by last name segment; values only when `decrypt`. */
  async parameters(path: string, decrypt: boolean): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    let NextToken: string | undefined;
    do {
      const page = (await this.send('ssm', new GetParametersByPathCommand({ Path: path, WithDecryption: decrypt, Recursive: false, NextToken }))) as {
        Parameters?: { Name?: string; Value?: string }[];
        NextToken?: string;
      };
      for (const p of page.Parameters ?? []) if (p.Name) out[p.Name.slice(p.Name.lastIndexOf('/') + 1)] = decrypt ? (p.Value ?? '') : '';
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  }

  /** The reconcile's schedule rule as EventBridge holds it now; undefined when the stack has none. */
  async schedule(): Promise<{ state: string; expression?: string } | undefined> {
    const resources = (await this.send('cloudformation', new DescribeStackResourcesCommand({ StackName: this.stackName }))) as {
      StackResources?: { LogicalResourceId?: string; PhysicalResourceId?: string; ResourceType?: string }[];
    };
    const rule = resources.StackResources?.find((r) => r.ResourceType === 'AWS::Events::Rule' && r.LogicalResourceId?.startsWith('Reconcile'));
    if (!rule?.PhysicalResourceId) return undefined;
    const out = (await this.send('eventbridge', new DescribeRuleCommand({ Name: rule.PhysicalResourceId }))) as { State?: string; ScheduleExpression?: string };
    return { state: out.State ?? 'UNKNOWN', expression: out.ScheduleExpression };
  }

  /** Messages waiting in a queue, visible and in flight. */
  async queueDepth(queueUrl: string): Promise<number> {
    const out = await this.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }

  latestReport(tableName: string): Promise<RunReport | undefined> {
    return new DynamoStateStore({ tableName, client: this.clients.dynamodb }).latestReport();
  }

  progress(tableName: string): ReconcileProgressItem {
    return new ReconcileProgressItem(tableName, this.clients.dynamodb);
  }

  /** Invokes a function and waits for its answer (JSON); a function error is a FunctionFailedError. */
  async invoke(fn: 'reconcile' | 'doctor', payload: object): Promise<unknown> {
    const out = (await this.send(
      'lambda',
      new InvokeCommand({ FunctionName: this.functionName(fn), InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
    )) as { FunctionError?: string; Payload?: Uint8Array };
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    if (out.FunctionError) {
      const e = body as { errorType?: string; errorMessage?: string } | undefined;
      throw new FunctionFailedError(`${this.functionName(fn)} failed: ${e?.errorType ?? out.FunctionError}: ${e?.errorMessage ?? text.slice(0, 300)}`);
    }
    return body;
  }

  private send(client: 'cloudformation' | 'lambda' | 'ssm' | 'eventbridge', command: unknown): Promise<unknown> {
    return (this.clients[client] as Sender).send(command);
  }
}
