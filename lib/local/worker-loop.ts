/**
 * Drives the sync worker from the in-process queue the way the SQS event source mapping drives
 * the Lambda: batches of up to 10, several at once (`maximumConcurrency`), each with a Lambda's
 * time, partial batch responses, failed records returned to their group's head (or the dead
 * letters after maxReceiveCount).
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { waitDeadline, withInvocationDeadline } from '../invocation-deadline';
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

/**
 * The sync function's timeout (serverless.yml): each batch gets as long as a Lambda invocation
 * would, and throttled calls wait only while it could still hand its messages back.
 */
const INVOCATION_MS = 60_000;

/** Runs one batch as the Lambda would; the ids of the messages to return to the queue, or all of them when it threw. */
async function processBatch(
  batch: QueuedMessage[],
  process: BatchProcessor,
  invocationMs = INVOCATION_MS,
): Promise<{ result?: SyncBatchResult; failed: Set<string> }> {
  const now = Date.now();
  try {
    const result = await withInvocationDeadline(waitDeadline(now, now + invocationMs), () => process({ Records: batch.map(toRecord) }));
    return { result, failed: new Set(result.response.batchItemFailures.map((f) => f.itemIdentifier)) };
  } catch {
    return { failed: new Set(batch.map((m) => m.messageId)) };
  }
}

/**
 * Receives and processes one batch; returns what it did, or undefined when nothing was waiting.
 * `invocationMs`: the time the batch has, as a Lambda's timeout (default the sync function's).
 */
export async function runOneBatch(queue: InProcessQueue, process: BatchProcessor, opts: { invocationMs?: number } = {}): Promise<SyncBatchResult | undefined> {
  const batch = queue.receive(10);
  if (batch.length === 0) return undefined;
  const { result, failed } = await processBatch(batch, process, opts.invocationMs);
  for (const m of batch) failed.has(m.messageId) ? queue.nack(m.messageId) : queue.ack(m.messageId);
  return result;
}

/**
 * Processes until the queue is empty or `maxBatches` ran (failing messages are retried, so a
 * bound keeps a permanently broken dependency from spinning forever). One batch at a time: for
 * tests and scripts that want a deterministic order.
 */
export async function drain(queue: InProcessQueue, process: BatchProcessor, maxBatches = 1000): Promise<SyncBatchResult[]> {
  const results: SyncBatchResult[] = [];
  for (let i = 0; i < maxBatches && queue.depth > 0; i++) {
    const r = await runOneBatch(queue, process);
    if (r) results.push(r);
  }
  return results;
}

export interface WorkerLoopOptions {
  /**
   * Batches processed at once, as the SQS trigger's maximumConcurrency runs that many Lambdas
   * (SYNC_MAX_CONCURRENCY). The queue hands out one message per group at a time, so an entity's
   * changes still never overtake each other. Default 1.
   */
  concurrency?: number;
  /**
   * How long a failed message stays invisible before it is received again, as the visibility
   * timeout keeps it (360 s in AWS; default 2 s here). Its group waits with it; others go on.
   */
  retryDelayMs?: number;
}

/**
 * Runs in the background for `npm start`: receives whenever messages arrive and a batch slot is
 * free. Returns a stop function.
 */
export function startWorkerLoop(queue: InProcessQueue, process: BatchProcessor, opts: WorkerLoopOptions = {}): () => void {
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const retryDelayMs = opts.retryDelayMs ?? 2000;
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let active = 0;
  const pump = (): void => {
    while (!stopped && active < concurrency) {
      const batch = queue.receive(10);
      if (batch.length === 0) return;
      active++;
      void processBatch(batch, process).then(({ failed }) => {
        active--;
        for (const m of batch) if (!failed.has(m.messageId)) queue.ack(m.messageId);
        if (failed.size > 0 && !stopped) {
          const timer = setTimeout(() => {
            timers.delete(timer);
            for (const id of failed) queue.nack(id);
          }, retryDelayMs);
          timers.add(timer);
        }
        pump();
      });
    }
  };
  const unsubscribe = queue.onAvailable(pump);
  pump();
  return () => {
    stopped = true;
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
  };
}
