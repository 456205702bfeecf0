/**
 * The SQS FIFO-triggered sync Lambda: a thin adapter from the event to lib/sync/worker.
 * Retryable failures are reported as batch item failures (back to the queue, then the DLQ);
 * permanent ones are recorded in the state table and acknowledged; throttles are waited out
 * within the invocation's time, and what is left goes back as a new message. The invocation's
 * deadline also tells the worker to start no record in its last seconds.
 *
 * Metrics (outcomes by result, propagation latency, throttles, retried messages) go out through
 * Powertools Metrics as embedded-metric-format lines, once per batch.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { composeAwsService } from '../lib/compose/aws';
import type { SyncCore } from '../lib/compose/core';
import { loadLogLevel } from '../lib/config';
import { type InvocationTime, withLambdaDeadline } from '../lib/invocation-deadline';
import { createLogger } from '../lib/log';
import { METRIC, metricsService } from '../lib/metrics/metrics';
import { PowertoolsMetrics } from '../lib/metrics/powertools';

const logger = createLogger('sync', { level: loadLogLevel() });
const metrics = new PowertoolsMetrics(metricsService());
let processor: Promise<SyncCore['processBatch']> | undefined;

async function init(): Promise<SyncCore['processBatch']> {
  return (await composeAwsService(logger, 'sync-worker', metrics)).processBatch;
}

/** `context` is Lambda's; without one (a local caller), there is no deadline. */
export async function handler(event: SQSEvent, context?: InvocationTime): Promise<SQSBatchResponse> {
  processor ??= init().catch((e: unknown) => {
    processor = undefined;
    logger.error('sync worker cannot start', { error: e instanceof Error ? e.message : String(e) });
    throw e;
  });
  try {
    const processBatch = await processor;
    // Throttled calls wait, and records start, only while this invocation can still hand its messages back.
    const { response, outcomes, notStarted } = await withLambdaDeadline(context, () => processBatch(event));
    const failed = outcomes.filter((o) => o.result === 'failed').length;
    logger.info('batch done', {
      records: event.Records.length,
      retried: response.batchItemFailures.length,
      permanentFailures: failed,
      notStarted,
      throttledRequeued: outcomes.filter((o) => o.result === 'requeued').length,
    });
    metrics.add(METRIC.retriedMessages, 'Count', response.batchItemFailures.length);
    return response;
  } finally {
    metrics.flush();
  }
}
