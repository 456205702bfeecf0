/**
 * Moves change messages from the dead-letter queue back to the change queue once the cause is
 * fixed (a wrong secret, an untrusted IP). Each message keeps its entity group; it gets a fresh
 * deduplication id, because SQS would drop a resend carrying the old one within 5 minutes.
 * A message is deleted from the DLQ only after the change queue accepted it.
 */

import { randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { decodeMessage, messageGroupId } from '../messages';

export interface RedriveResult {
  moved: number;
  /** Bodies that are not change messages: left in the DLQ for a person to look at. */
  unreadable: number;
  failed: number;
}

export async function redrive(client: SQSClient, from: string, to: string, opts: { max?: number } = {}): Promise<RedriveResult> {
  const result: RedriveResult = { moved: 0, unreadable: 0, failed: 0 };
  const max = opts.max ?? 100_000;
  const seen = new Set<string>();
  while (result.moved + result.unreadable + result.failed < max) {
    const got = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: from,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        AttributeNames: ['All'],
        // The trail (correlation id) travels in message attributes: a redriven change keeps it.
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = (got.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (messages.length === 0) break;
    const sendable = [];
    for (const m of messages) {
      seen.add(m.MessageId!);
      try {
        sendable.push({ m, groupId: messageGroupId(decodeMessage(m.Body ?? '')) });
      } catch {
        result.unreadable++; // stays invisible for a minute, then back in the DLQ
      }
    }
    if (sendable.length === 0) continue;
    const sent = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: to,
        Entries: sendable.map(({ m, groupId }, i) => ({
          Id: String(i),
          MessageBody: m.Body!,
          MessageAttributes: m.MessageAttributes,
          MessageGroupId: groupId,
          MessageDeduplicationId: randomUUID(),
        })),
      }),
    );
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    result.failed += sendable.length - ok.size;
    const toDelete = sendable.filter((_, i) => ok.has(String(i)));
    if (toDelete.length > 0) {
      await client.send(
        new DeleteMessageBatchCommand({ QueueUrl: from, Entries: toDelete.map(({ m }, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
      );
      result.moved += toDelete.length;
    }
  }
  return result;
}
