/**
 * `npm run redrive`: moves change messages from the dead-letter queue back to the change queue,
 * after the cause of their failures is fixed. Needs QUEUE_URL and DLQ_URL (the stack outputs
 * ChangeQueueUrl and DeadLetterQueueUrl) and AWS credentials and region for the account.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { redrive } from '../lib/aws/redrive';
import { loadQueueSettings } from '../lib/config';
import { type Cli, cli } from './cli';

const USAGE = 'usage: QUEUE_URL=<ChangeQueueUrl> DLQ_URL=<DeadLetterQueueUrl> npm run redrive (with AWS credentials and AWS_REGION for the account)';
const command: Cli = cli('redrive', USAGE, 2);

const { deadLetterQueueUrl: from, queueUrl: to } = loadQueueSettings();
if (!from || !to) command.fail(`set QUEUE_URL and DLQ_URL (the stack outputs ChangeQueueUrl and DeadLetterQueueUrl)\n${USAGE}`);

try {
  const result = await redrive(new SQSClient({}), from!, to!);
  process.stdout.write(
    `moved ${result.moved} messages back to the change queue; ${result.unreadable} unreadable and ${result.failed} refused left in the dead-letter queue\n`,
  );
  process.exitCode = result.unreadable + result.failed > 0 ? 1 : 0;
} catch (e) {
  // The SDK's own words are the useful part (no region, no credentials, access denied, no such queue).
  command.fail(`could not move messages: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
}
