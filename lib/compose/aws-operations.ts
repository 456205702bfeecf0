/**
 * The operations view of a deployed stage, for `npm run status -- --stage <stage>` and
 * `npm run history -- --stage <stage> …`, run with the operator's AWS credentials: the stack's
 * outputs name the queues and the table; SQS, CloudWatch and the table answer. Kept apart from
 * lib/compose/aws.ts so that the Lambdas' bundles never carry the CloudFormation and CloudWatch
 * clients.
 *
 * Every client can be passed in: the tests give local SQS and DynamoDB servers and a stand-in
 * for CloudFormation and CloudWatch, which cannot run on this machine.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoHistoryStore } from '../aws/dynamo-history';
import { DynamoStateStore } from '../aws/dynamo-store';
import { SqsQueueStatus } from '../aws/queue-status';
import { stageResources } from '../aws/stack-outputs';
import { DEFAULT_HISTORY_TTL_DAYS } from '../history/config';
import type { Clock } from '../ports';
import { type Operations, operationsOf } from '../status/operations';

export interface StageClients {
  cloudformation?: Pick<CloudFormationClient, 'send'>;
  cloudwatch?: Pick<CloudWatchClient, 'send'>;
  sqs?: SQSClient;
  dynamodb?: DynamoDBClient;
  /** Region for the clients made here (default: the SDK's, from AWS_REGION or the profile). */
  region?: string;
  clock?: Clock;
}

export async function stageOperations(stage: string, clients: StageClients = {}): Promise<Operations> {
  const region = clients.region;
  const resources = await stageResources(clients.cloudformation ?? new CloudFormationClient({ region }), stage);
  const dynamodb = clients.dynamodb ?? new DynamoDBClient({ region });
  // Reads only: the TTL given here applies to writes, which this view never makes.
  const history = new DynamoHistoryStore({ tableName: resources.stateTable, client: dynamodb, ttlDays: DEFAULT_HISTORY_TTL_DAYS, clock: clients.clock });
  return operationsOf({
    queue: new SqsQueueStatus({
      sqs: clients.sqs ?? new SQSClient({ region }),
      queueUrl: resources.queueUrl,
      deadLetterQueueUrl: resources.deadLetterQueueUrl,
      cloudwatch: clients.cloudwatch ?? new CloudWatchClient({ region }),
      clock: clients.clock,
    }),
    reports: new DynamoStateStore({ tableName: resources.stateTable, client: dynamodb }),
    failures: history,
    history,
  });
}
