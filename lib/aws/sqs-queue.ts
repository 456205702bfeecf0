/**
 * The SQS FIFO adapter of ChangeQueue.
 *
 * `SendMessageBatch` takes at most 10 entries, and an HTTP 200 answer can still list entries as
 * `Failed`: each chunk's `Successful` list is the only proof of acceptance. Failed entries (and
 * any entry in neither list) are retried briefly, alone; whatever is still not accepted makes
 * `enqueue` throw QueueRejectedError, so the callback does not acknowledge the push (DingTalk is
 * told `success` only once every change it carried is on the queue).
 *
 * Re-sending is always safe: every entry carries a deterministic MessageDeduplicationId, so an
 * entry that SQS did accept although the answer said otherwise is dropped as a duplicate (within
 * SQS's 5-minute window), as are DingTalk's own retries of the whole push.
 */
import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mapLimit } from '../concurrency';
import { ConfigError } from '../config';
import { deduplicationId, encodeMessage, messageGroupId } from '../messages';
import { type ChangeMessage, type ChangeQueue, QueueRejectedError } from '../ports';
import { exponentialDelays, withRetries } from '../retry';
import { trailAttributes } from '../trail/attributes';

/** SendMessageBatch's limit. */
const BATCH_SIZE = 10;

/** The queue, and how hard to try before telling the callback the push was not taken. */
export interface SqsQueueOptions {
  queueUrl: string;
  /** Defaults to `new SQSClient({})`: region, credentials and endpoint from the environment. */
  client?: SQSClient;
  /** Sends per entry that SQS answered as failed, counting the first; default 3. */
  attempts?: number;
  /** Pause before the first retry, doubled for each further one; default 50 ms. */
  backoffMs?: number;
  /** Batches in flight at once; default 5. */
  concurrency?: number;
}

interface ChunkResult {
  accepted: number;
  rejected: number;
  reasons: string[];
}

/** Thrown inside the retry loop when entries are still pending and sending them again may help. */
class EntriesPending extends Error {}

/** ChangeQueue on an SQS FIFO queue: resolves only when SQS has confirmed every message. */
export class SqsChangeQueue implements ChangeQueue {
  private readonly queueUrl: string;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly concurrency: number;
  private client: SQSClient | undefined;

  constructor(opts: SqsQueueOptions) {
    if (!opts.queueUrl) throw new ConfigError('QUEUE_URL', 'is not set');
    this.queueUrl = opts.queueUrl;
    this.client = opts.client;
    this.attempts = Math.max(1, opts.attempts ?? 3);
    this.backoffMs = opts.backoffMs ?? 50;
    this.concurrency = Math.max(1, opts.concurrency ?? 5);
  }

  async enqueue(messages: readonly ChangeMessage[]): Promise<void> {
    const chunks: ChangeMessage[][] = [];
    for (let i = 0; i < messages.length; i += BATCH_SIZE) chunks.push(messages.slice(i, i + BATCH_SIZE));

    // Chunks go out in parallel for the callback's deadline. Ordering across chunks does not
    // matter: a message only says "this entity may have changed", and the worker re-reads it.
    const results = await mapLimit(chunks, this.concurrency, (chunk) => this.sendChunk(chunk));

    const accepted = results.reduce((n, r) => n + r.accepted, 0);
    const rejected = results.reduce((n, r) => n + r.rejected, 0);
    if (rejected > 0) {
      const reasons = [...new Set(results.flatMap((r) => r.reasons))].join('; ');
      throw new QueueRejectedError(accepted, rejected, reasons);
    }
  }

  private sqs(): SQSClient {
    // Created on first send: constructing the handler stays cheap, and tests can inject one.
    // DingTalk gives up after about 1.5 s: an SQS call that hangs longer helps nobody, and a
    // retried push is deduplicated anyway. The SDK's own retries stay on.
    this.client ??= new SQSClient({ requestHandler: { connectionTimeout: 500, requestTimeout: 1000 } });
    return this.client;
  }

  private async sendChunk(chunk: readonly ChangeMessage[]): Promise<ChunkResult> {
    // Ids only need to be unique within one request; the position is.
    let pending: SendMessageBatchRequestEntry[] = chunk.map((m, index) => ({
      Id: String(index),
      MessageBody: encodeMessage(m),
      MessageGroupId: messageGroupId(m),
      MessageDeduplicationId: deduplicationId(m),
      MessageAttributes: messageAttributes(m),
    }));
    let accepted = 0;
    let reasons: string[] = [];

    /** One SendMessageBatch of the pending entries; throws EntriesPending when a retry may help. */
    const send = async (): Promise<void> => {
      let out: SendMessageBatchCommandOutput;
      try {
        out = await this.sqs().send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
      } catch (e) {
        // The SDK has already retried what its retry strategy considers transient; what is left
        // (missing queue, access denied, an invalid request, or retries exhausted) would only
        // spend the callback's deadline.
        reasons = [`SendMessageBatch failed: ${describeError(e)}`];
        return;
      }
      const confirmed = new Set((out.Successful ?? []).map((s) => s.Id));
      const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
      accepted += pending.filter((entry) => confirmed.has(entry.Id)).length;
      pending = pending.filter((entry) => !confirmed.has(entry.Id));
      reasons = pending.map((entry) => {
        const f = failed.get(entry.Id);
        if (!f) return 'entry neither accepted nor failed';
        return `${f.Code ?? 'failed'}${f.SenderFault ? ' (sender fault)' : ''}${f.Message ? `: ${f.Message}` : ''}`;
      });
      // A sender fault is the request's own fault: sending it again fails the same way.
      if (pending.length > 0 && !pending.some((entry) => failed.get(entry.Id)?.SenderFault)) throw new EntriesPending();
    };

    try {
      await withRetries({ delaysMs: exponentialDelays(this.attempts - 1, this.backoffMs), retryable: (e) => e instanceof EntriesPending }, send);
    } catch (e) {
      // Out of attempts: what is still pending is reported as rejected below.
      if (!(e instanceof EntriesPending)) throw e;
    }
    return { accepted, rejected: pending.length, reasons };
  }
}

/** The message's trail (correlation id, source) as SQS message attributes; none without a trail. */
function messageAttributes(m: ChangeMessage): Record<string, MessageAttributeValue> | undefined {
  const entries = Object.entries(trailAttributes(m.trail));
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map(([name, value]) => [name, { DataType: 'String', StringValue: value }]));
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.message && e.message !== e.name ? `${e.name}: ${e.message}` : e.name;
}
