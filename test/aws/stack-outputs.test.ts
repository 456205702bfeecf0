/**
 * Reading a stage's resources from its stack's outputs. CloudFormation cannot run on this
 * machine: a stand-in answers DescribeStacks as CloudFormation does.
 */
import { type CloudFormationClient, DescribeStacksCommand, type DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { StackOutputsError, stageResources } from '../../lib/aws/stack-outputs';

function cloudformation(answer: Partial<DescribeStacksCommandOutput>, asked: string[] = []): Pick<CloudFormationClient, 'send'> {
  return {
    send: (async (command: DescribeStacksCommand) => {
      expect(command).toBeInstanceOf(DescribeStacksCommand);
      asked.push(command.input.StackName!);
      return answer;
    }) as unknown as CloudFormationClient['send'],
  };
}

const outputs = [
  { OutputKey: 'CallbackUrl', OutputValue: 'https://x.execute-api/dingtalk/callback' },
  { OutputKey: 'ChangeQueueUrl', OutputValue: 'https://sqs/123/changes.fifo' },
  { OutputKey: 'DeadLetterQueueUrl', OutputValue: 'https://sqs/123/dlq.fifo' },
  { OutputKey: 'StateTableName', OutputValue: 'dingtalk-wecom-sync-prod-state' },
];

describe('stageResources', () => {
  it('asks for the stage’s stack and reads the queues and the table from its outputs', async () => {
    const asked: string[] = [];
    expect(
      await stageResources(
        cloudformation({ Stacks: [{ StackName: 'x', Outputs: outputs, CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE' }] }, asked),
        'prod',
      ),
    ).toEqual({
      stackName: 'dingtalk-wecom-sync-prod',
      queueUrl: 'https://sqs/123/changes.fifo',
      deadLetterQueueUrl: 'https://sqs/123/dlq.fifo',
      stateTable: 'dingtalk-wecom-sync-prod-state',
    });
    expect(asked).toEqual(['dingtalk-wecom-sync-prod']);
  });

  it('names the outputs a stack of an older version lacks, and a stack that is not there', async () => {
    const old = { Stacks: [{ StackName: 'x', Outputs: outputs.slice(0, 2), CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE' as const }] };
    await expect(stageResources(cloudformation(old), 'prod')).rejects.toThrow(/no output DeadLetterQueueUrl, StateTableName/);
    await expect(stageResources(cloudformation({ Stacks: [] }), 'dev')).rejects.toThrow(StackOutputsError);
  });
});
