/**
 * A deployed stage's queue URLs and state table, from its CloudFormation stack's outputs (the
 * ones serverless.yml declares), so that `npm run status -- --stage prod` needs nothing but the
 * stage and the operator's credentials (cloudformation:DescribeStacks).
 */
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/** serverless.yml's `service`: stacks are named `<service>-<stage>`. */
const SERVICE = 'dingtalk-wecom-sync';

export interface StageResources {
  stackName: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  stateTable: string;
}

const OUTPUTS = { queueUrl: 'ChangeQueueUrl', deadLetterQueueUrl: 'DeadLetterQueueUrl', stateTable: 'StateTableName' } as const;

export class StackOutputsError extends Error {
  override readonly name = 'StackOutputsError';
}

export async function stageResources(cloudformation: Pick<CloudFormationClient, 'send'>, stage: string): Promise<StageResources> {
  const stackName = `${SERVICE}-${stage}`;
  const out = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = out.Stacks?.[0];
  if (!stack) throw new StackOutputsError(`stack ${stackName} not found: is stage ${stage} deployed in this region?`);
  const outputs = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const missing = Object.values(OUTPUTS).filter((key) => !outputs.get(key));
  if (missing.length > 0) throw new StackOutputsError(`stack ${stackName} has no output ${missing.join(', ')}: deploy this version first`);
  return {
    stackName,
    queueUrl: outputs.get(OUTPUTS.queueUrl)!,
    deadLetterQueueUrl: outputs.get(OUTPUTS.deadLetterQueueUrl)!,
    stateTable: outputs.get(OUTPUTS.stateTable)!,
  };
}
