/**
 * The status of a deployed stage's queues: SQS's approximate counts for the change queue and
 * the dead-letter queue, and the oldest message's age from CloudWatch (SQS publishes
 * `ApproximateAgeOfOldestMessage` there each minute; no SQS call tells it without receiving
 * messages, which would count as receives towards the DLQ).
 *
 * Needs sqs:GetQueueAttributes on both queues and cloudwatch:GetMetricData: the operator's
 * credentials, not a Lambda role's.
 */
import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, type QueueAttributeName, SQSClient } from '@aws-sdk/client-sqs';
import { type Clock, systemClock } from '../ports';
import type { QueueStatus, QueueStatusSource } from '../status/status';

/** How far back to look for the newest age datapoint: SQS metrics arrive a few minutes late. */
const AGE_LOOKBACK_MS = 15 * 60_000;

export interface SqsQueueStatusOptions {
  /** Defaults to a client configured from the environment. */
  sqs?: Pick<SQSClient, 'send'>;
  queueUrl: string;
  deadLetterQueueUrl?: string;
  /** Where the oldest message's age comes from; none: unknown unless the queue is empty. */
  cloudwatch?: Pick<CloudWatchClient, 'send'>;
  clock?: Clock;
}

export class SqsQueueStatus implements QueueStatusSource {
  private readonly sqs: Pick<SQSClient, 'send'>;

  constructor(private readonly opts: SqsQueueStatusOptions) {
    this.sqs = opts.sqs ?? new SQSClient({});
  }

  async queueStatus(): Promise<QueueStatus> {
    const { queueUrl, deadLetterQueueUrl } = this.opts;
    const [queue, dlq] = await Promise.all([this.counts(queueUrl), deadLetterQueueUrl ? this.counts(deadLetterQueueUrl) : undefined]);
    const empty = queue.waiting === 0 && queue.inFlight === 0;
    return {
      depth: queue.waiting,
      inFlight: queue.inFlight,
      oldestAgeSeconds: empty ? 0 : await this.oldestAge(queueName(queueUrl)),
      deadLetters: dlq ? dlq.waiting + dlq.inFlight : null,
    };
  }

  private async counts(url: string): Promise<{ waiting: number; inFlight: number }> {
    const out = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    const read = (name: QueueAttributeName) => Number(out.Attributes?.[name] ?? 0);
    return { waiting: read('ApproximateNumberOfMessages'), inFlight: read('ApproximateNumberOfMessagesNotVisible') };
  }

  private async oldestAge(name: string): Promise<number | null> {
    if (!this.opts.cloudwatch) return null;
    const now = (this.opts.clock ?? systemClock).now();
    const out = await this.opts.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now - AGE_LOOKBACK_MS),
        EndTime: new Date(now),
        ScanBy: 'TimestampDescending',
        MaxDatapoints: 1,
        MetricDataQueries: [
          {
            Id: 'age',
            MetricStat: {
              Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: name }] },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );
    const value = out.MetricDataResults?.[0]?.Values?.[0];
    return value === undefined ? null : Math.round(value);
  }
}

/** The queue's name: the last segment of its URL. */
function queueName(url: string): string {
  return url.replace(/\/+$/, '').split('/').pop() ?? url;
}
