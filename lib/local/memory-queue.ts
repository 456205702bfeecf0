/**
 * The in-process stand-in for the SQS FIFO queue, for `npm start` and end-to-end tests. It keeps
 * the behaviour the worker depends on: per-group order (a group with a message in flight yields
 * nothing else), deduplication by id within a window, a receive count, and a dead-letter list
 * after `maxReceiveCount` failed receipts.
 */
import { deduplicationId, encodeMessage, messageGroupId } from '../messages';
import { type ChangeMessage, type ChangeQueue, type Clock, QueueRejectedError, systemClock } from '../ports';
import type { QueueStatus, QueueStatusSource } from '../status/status';
import { trailAttributes } from '../trail/attributes';

export interface QueuedMessage {
  messageId: string;
  groupId: string;
  dedupId: string;
  /** The encoded body, exactly as SQS would carry it. */
  body: string;
  /** The message attributes, as SQS would carry them (the trail). */
  attributes: Record<string, string>;
  receiveCount: number;
  sentAt: number;
}

export class InProcessQueue implements ChangeQueue, QueueStatusSource {
  private readonly ready: QueuedMessage[] = [];
  private readonly inFlight = new Map<string, QueuedMessage>();
  private readonly seen = new Map<string, number>();
  private seq = 0;
  readonly deadLetters: QueuedMessage[] = [];
  /** Test switch: the next N enqueue calls are refused as a full or broken queue would. */
  rejectNextEnqueues = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly opts: { maxReceiveCount?: number; dedupWindowMs?: number; clock?: Clock } = {}) {}

  async enqueue(messages: readonly ChangeMessage[]): Promise<void> {
    if (this.rejectNextEnqueues > 0) {
      this.rejectNextEnqueues--;
      throw new QueueRejectedError(0, messages.length, 'in-process queue refused (test switch)');
    }
    const now = (this.opts.clock ?? systemClock).now();
    const window = this.opts.dedupWindowMs ?? 5 * 60_000;
    // Forget ids past the window, so a long `npm start` does not grow without bound. Map
    // iteration follows insertion order, which is time order here.
    for (const [id, at] of this.seen) {
      if (now - at < window) break;
      this.seen.delete(id);
    }
    for (const m of messages) {
      const dedupId = deduplicationId(m);
      const seenAt = this.seen.get(dedupId);
      if (seenAt !== undefined && now - seenAt < window) continue;
      this.seen.delete(dedupId); // re-inserted at the end, keeping the map in time order
      this.seen.set(dedupId, now);
      this.ready.push({
        messageId: `local-${++this.seq}`,
        groupId: messageGroupId(m),
        dedupId,
        body: encodeMessage(m),
        attributes: trailAttributes(m.trail),
        receiveCount: 0,
        sentAt: now,
      });
    }
    for (const l of this.listeners) l();
  }

  /** Up to `max` messages, at most the oldest one per group, skipping groups with one in flight. */
  receive(max = 10): QueuedMessage[] {
    const busy = new Set([...this.inFlight.values()].map((m) => m.groupId));
    const out: QueuedMessage[] = [];
    for (let i = 0; i < this.ready.length && out.length < max; ) {
      const m = this.ready[i]!;
      if (busy.has(m.groupId)) {
        i++;
        continue;
      }
      busy.add(m.groupId);
      this.ready.splice(i, 1);
      m.receiveCount++;
      this.inFlight.set(m.messageId, m);
      out.push(m);
    }
    return out;
  }

  /** The message was processed: delete it. */
  ack(messageId: string): void {
    this.inFlight.delete(messageId);
  }

  /** The message failed: back to the head of its group, or to the dead letters after too many tries. */
  nack(messageId: string): void {
    const m = this.inFlight.get(messageId);
    if (!m) return;
    this.inFlight.delete(messageId);
    if (m.receiveCount >= (this.opts.maxReceiveCount ?? 5)) {
      this.deadLetters.push(m);
      return;
    }
    const firstOfGroup = this.ready.findIndex((r) => r.groupId === m.groupId);
    if (firstOfGroup === -1) this.ready.push(m);
    else this.ready.splice(firstOfGroup, 0, m);
    for (const l of this.listeners) l();
  }

  /** What `npm start`'s status shows: waiting, in flight, the oldest one's age, dead letters. */
  async queueStatus(): Promise<QueueStatus> {
    const now = (this.opts.clock ?? systemClock).now();
    let oldest = now;
    for (const m of [...this.ready, ...this.inFlight.values()]) oldest = Math.min(oldest, m.sentAt);
    return {
      depth: this.ready.length,
      inFlight: this.inFlight.size,
      oldestAgeSeconds: Math.max(0, Math.round((now - oldest) / 1000)),
      deadLetters: this.deadLetters.length,
    };
  }

  /** Messages waiting or in flight. */
  get depth(): number {
    return this.ready.length + this.inFlight.size;
  }

  /** Calls `listener` whenever messages become available; returns an unsubscribe function. */
  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
