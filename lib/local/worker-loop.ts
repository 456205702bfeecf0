/**
 * Drives the sync worker from the in-process queue the way the SQS event source mapping drives
 * the Lambda: batches of up to 10, partial batch responses, failed records returned to their
 * group's head (or the dead letters after maxReceiveCount).
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { SyncBatchResult } from '../sync/worker';
import type { InProcessQueue, QueuedMessage } from './memory-queue';

export type BatchProcessor = (event: SQSEvent) => Promise<SyncBatchResult>;

function toRecord(m: QueuedMessage): SQSRecord {
  return {
    messageId: m.messageId,
    receiptHandle: m.messageId,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(m.sentAt),
      MessageGroupId: m.groupId,
      MessageDeduplicationId: m.dedupId,
    },
    messageAttributes: Object.fromEntries(
      Object.entries(m.attributes).map(([name, value]) => [name, { dataType: 'String', stringValue: value, stringListValues: [], binaryListValues: [] }]),
    ),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:changes.fifo',
    awsRegion: 'local',
  };
}

/** Receives and processes one batch; returns what it did, or undefined when nothing was waiting. */
export async function runOneBatch(queue: InProcessQueue, process: BatchProcessor): Promise<SyncBatchResult | undefined> {
  const batch = queue.receive(10);
  if (batch.length === 0) return undefined;
  let result: SyncBatchResult;
  try {
    result = await process({ Records: batch.map(toRecord) });
  } catch {
    for (const m of batch) queue.nack(m.messageId);
    return undefined;
  }
  const failed = new Set(result.response.batchItemFailures.map((f) => f.itemIdentifier));
  for (const m of batch) failed.has(m.messageId) ? queue.nack(m.messageId) : queue.ack(m.messageId);
  return result;
}

/**
 * Processes until the queue is empty or `maxBatches` ran (failing messages are retried, so a
 * bound keeps a permanently broken dependency from spinning forever). For tests and scripts.
 */
export async function drain(queue: InProcessQueue, process: BatchProcessor, maxBatches = 1000): Promise<SyncBatchResult[]> {
  const results: SyncBatchResult[] = [];
  for (let i = 0; i < maxBatches && queue.depth > 0; i++) {
    const r = await runOneBatch(queue, process);
    if (r) results.push(r);
  }
  return results;
}

/**
 * Runs in the background for `npm start`: wakes when messages arrive, backs off after failures
 * (as the visibility timeout would). Returns a stop function.
 */
export function startWorkerLoop(queue: InProcessQueue, process: BatchProcessor, opts: { retryDelayMs?: number } = {}): () => void {
  let stopped = false;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    if (running || stopped) return;
    running = true;
    try {
      let hadFailure = false;
      while (!stopped && queue.depth > 0) {
        const r = await runOneBatch(queue, process);
        // Nothing processed while messages wait means the batch itself failed (they were
        // returned to the queue): back off and try again, as the visibility timeout would.
        if (!r || r.response.batchItemFailures.length > 0) {
          hadFailure = queue.depth > 0;
          break;
        }
      }
      if (hadFailure && !stopped) timer = setTimeout(() => void tick(), opts.retryDelayMs ?? 2000);
    } finally {
      running = false;
    }
  };
  const unsubscribe = queue.onAvailable(() => void tick());
  void tick();
  return () => {
    stopped = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
}
