/**
 * The SQS FIFO-triggered sync Lambda: a thin adapter from the event to lib/sync/worker.
 * Retryable failures are reported as batch item failures (back to the queue, then the DLQ);
 * permanent ones are recorded in the state table and acknowledged. The invocation's deadline goes
 * to the worker, which starts no record in its last seconds and hands those back to the queue.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { composeAwsService } from '../lib/compose/aws';
import type { SyncCore } from '../lib/compose/core';
import { loadLogLevel } from '../lib/config';
import { createLogger } from '../lib/log';

const logger = createLogger('sync', { level: loadLogLevel() });
let processor: Promise<SyncCore['processBatch']> | undefined;

async function init(): Promise<SyncCore['processBatch']> {
  return (await composeAwsService(logger)).processBatch;
}

/** `context` is Lambda's; without one (a local caller), records are started whatever the time. */
export async function handler(event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
  processor ??= init().catch((e: unknown) => {
    processor = undefined;
    logger.error('sync worker cannot start', { error: e instanceof Error ? e.message : String(e) });
    throw e;
  });
  const deadline = context && { remainingMs: () => context.getRemainingTimeInMillis() };
  const { response, outcomes, notStarted } = await (await processor)(event, deadline);
  const failed = outcomes.filter((o) => o.result === 'failed').length;
  logger.info('batch done', {
    records: event.Records.length,
    retried: response.batchItemFailures.length,
    permanentFailures: failed,
    notStarted,
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
