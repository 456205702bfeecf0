/**
 * The SQS FIFO-triggered sync Lambda: a thin adapter from the event to lib/sync/worker.
 * Retryable failures are reported as batch item failures (back to the queue, then the DLQ);
 * permanent ones are recorded in the state table and acknowledged.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createAwsSyncRuntime } from '../lib/aws/runtime';
import { createLogger } from '../lib/log';
import { createSyncBatchProcessor } from '../lib/sync/worker';

const logger = createLogger('sync');
let processor: Promise<ReturnType<typeof createSyncBatchProcessor>> | undefined;

async function init(): Promise<ReturnType<typeof createSyncBatchProcessor>> {
  const { sync } = await createAwsSyncRuntime(logger);
  return createSyncBatchProcessor(sync, logger);
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  processor ??= init().catch((e: unknown) => {
    processor = undefined;
    logger.error('sync worker cannot start', { error: e instanceof Error ? e.message : String(e) });
    throw e;
  });
  const { response, outcomes } = await (await processor)(event);
  const failed = outcomes.filter((o) => o.result === 'failed').length;
  logger.info('batch done', {
    records: event.Records.length,
    retried: response.batchItemFailures.length,
    permanentFailures: failed,
    // CloudWatch embedded metric format: turns this line into metrics without an extra API call.
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: 'DingTalkWeComSync',
          Dimensions: [[]],
          Metrics: [
            { Name: 'PermanentFailures', Unit: 'Count' },
            { Name: 'RetriedMessages', Unit: 'Count' },
          ],
        },
      ],
    },
    PermanentFailures: failed,
    RetriedMessages: response.batchItemFailures.length,
  });
  return response;
}
