/**
 * The SQS FIFO adapter of ChangeQueue. `SendMessageBatch` in chunks of 10; a 200 answer can
 * still fail individual entries, so the `Failed` list is checked and only those entries are
 * retried, briefly (the callback has about 1.5 s in all). Anything still not accepted makes
 * `enqueue` throw, so the callback does not acknowledge.
 */
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { deduplicationId, encodeMessage, messageGroupId } from '../messages';
import { QueueRejectedError, type ChangeMessage, type ChangeQueue } from '../ports';

const BATCH = 10;

export interface SqsQueueOptions {
  queueUrl: string;
  client?: SQSClient;
  /** Tries per entry, counting the first; default 3. */
  attempts?: number;
  /** Pause before a retry, doubled each time; default 50 ms. */
  backoffMs?: number;
}

export class SqsChangeQueue implements ChangeQueue {
  private readonly client: SQSClient;

  constructor(private readonly opts: SqsQueueOptions) {
    if (!opts.queueUrl) throw new Error('configuration: QUEUE_URL is not set');
    this.client = opts.client ?? new SQSClient({});
  }

  async enqueue(messages: readonly ChangeMessage[]): Promise<void> {
    let accepted = 0;
    let rejected = 0;
    const reasons = new Set<string>();
    for (let i = 0; i < messages.length; i += BATCH) {
      const result = await this.sendChunk(messages.slice(i, i + BATCH));
      accepted += result.accepted;
      rejected += result.rejected.length;
      for (const r of result.rejected) reasons.add(r);
      // Later chunks would only be orphans of an event that will be retried whole.
      if (result.rejected.length > 0) {
        rejected += Math.max(0, messages.length - i - BATCH);
        break;
      }
    }
    if (rejected > 0) throw new QueueRejectedError(accepted, rejected, [...reasons].join('; '));
  }

  private async sendChunk(chunk: readonly ChangeMessage[]): Promise<{ accepted: number; rejected: string[] }> {
    let pending: SendMessageBatchRequestEntry[] = chunk.map((m, index) => ({
      Id: String(index),
      MessageBody: encodeMessage(m),
      MessageGroupId: messageGroupId(m),
      MessageDeduplicationId: deduplicationId(m),
    }));
    let accepted = 0;
    let reasons: string[] = [];
    const attempts = this.opts.attempts ?? 3;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, (this.opts.backoffMs ?? 50) * 2 ** (attempt - 2)));
      try {
        const out = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.opts.queueUrl, Entries: pending }));
        const confirmed = new Set((out.Successful ?? []).map((s) => s.Id));
        const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        accepted += confirmed.size;
        // An entry in neither list was not confirmed: count it as failed rather than trust it.
        pending = pending.filter((entry) => !confirmed.has(entry.Id));
        reasons = pending.map((entry) => {
          const f = failed.get(entry.Id);
          return f ? `${f.Code ?? 'error'}${f.SenderFault ? ' (sender fault)' : ''}` : 'not confirmed';
        });
        // A sender fault (a bad entry) fails the same way again: do not spend the deadline on it.
        if (pending.length === 0 || pending.some((entry) => failed.get(entry.Id)?.SenderFault)) break;
      } catch (e) {
        reasons = pending.map(() => (e instanceof Error ? e.name : 'error'));
      }
    }
    return { accepted, rejected: pending.length > 0 ? reasons : [] };
  }
}
