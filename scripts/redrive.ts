/**
 * `npm run redrive`: moves change messages from the dead-letter queue back to the change queue,
 * after the cause of their failures is fixed. Needs QUEUE_URL and DLQ_URL (the stack outputs
 * ChangeQueueUrl and DeadLetterQueueUrl) and AWS credentials for the account.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { redrive } from '../lib/aws/redrive';
import { loadDeploymentConfig } from '../lib/config';

const { deadLetterQueueUrl: from, queueUrl: to } = loadDeploymentConfig();
if (!from || !to) {
  process.stderr.write('redrive: set QUEUE_URL and DLQ_URL (the stack outputs ChangeQueueUrl and DeadLetterQueueUrl)\n');
  process.exit(2);
}
const result = await redrive(new SQSClient({}), from, to);
process.stdout.write(
  `moved ${result.moved} messages back to the change queue; ${result.unreadable} unreadable and ${result.failed} refused left in the dead-letter queue\n`,
);
process.exitCode = result.unreadable + result.failed > 0 ? 1 : 0;
