/**
 * The queue's wire format for a ChangeMessage, shared by every ChangeQueue adapter and the worker.
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { ChangeMessage, EntityKind } from './ports';

/** Bumped when the body's shape changes; the worker refuses versions it does not know. */
const MESSAGE_VERSION = 1;

class BadMessageError extends Error {
  override readonly name = 'BadMessageError';
}

export function encodeMessage(m: ChangeMessage): string {
  const body: Record<string, unknown> = {
    v: MESSAGE_VERSION,
    kind: m.kind,
    id: m.id,
    eventType: m.eventType,
    eventTime: m.eventTime,
    corpId: m.corpId,
  };
  if (m.eventId !== undefined) body.eventId = m.eventId;
  if (m.throttled !== undefined) body.throttled = { requeues: m.throttled.requeues, since: m.throttled.since };
  return JSON.stringify(body);
}

export function decodeMessage(body: string): ChangeMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadMessageError('message body is not JSON');
  }
  const o = parsed as Record<string, unknown>;
  if (!o || typeof o !== 'object') throw new BadMessageError('message body is not an object');
  if (o.v !== MESSAGE_VERSION) throw new BadMessageError(`unknown message version ${String(o.v)}`);
  if (o.kind !== 'user' && o.kind !== 'dept') throw new BadMessageError('message kind must be user or dept');
  if (typeof o.id !== 'string' || o.id === '') throw new BadMessageError('message id must be a non-empty string');
  if (typeof o.eventType !== 'string') throw new BadMessageError('message eventType must be a string');
  if (typeof o.eventTime !== 'number') throw new BadMessageError('message eventTime must be a number');
  if (typeof o.corpId !== 'string') throw new BadMessageError('message corpId must be a string');
  if (o.eventId !== undefined && typeof o.eventId !== 'string') throw new BadMessageError('message eventId must be a string');
  const m: ChangeMessage = { kind: o.kind as EntityKind, id: o.id, eventType: o.eventType, eventTime: o.eventTime, corpId: o.corpId };
  if (typeof o.eventId === 'string') m.eventId = o.eventId;
  if (o.throttled !== undefined) m.throttled = throttledOf(o.throttled);
  return m;
}

function throttledOf(v: unknown): NonNullable<ChangeMessage['throttled']> {
  const t = v as Record<string, unknown> | null;
  if (typeof t !== 'object' || t === null || !Number.isSafeInteger(t.requeues) || typeof t.since !== 'number') {
    throw new BadMessageError('message throttled must hold requeues and since');
  }
  return { requeues: t.requeues as number, since: t.since };
}

/** SQS accepts at most 128 characters of ASCII letters, digits and punctuation in a group id. */
const MAX_GROUP_ID = 128;

/**
 * FIFO group: one per entity, so changes to one entity are processed in order and others in
 * parallel. DingTalk does not document its userid characters, and SQS refuses anything but
 * ASCII punctuation and alphanumerics, so the id is percent-encoded (plain ids stay readable),
 * and hashed when that would be too long.
 */
export function messageGroupId(m: Pick<ChangeMessage, 'kind' | 'id'>): string {
  const readable = `${m.kind}:${encodeURIComponent(m.id)}`;
  if (readable.length <= MAX_GROUP_ID) return readable;
  return `${m.kind}:#${createHash('sha256').update(m.id).digest('hex')}`;
}

/**
 * Deterministic: DingTalk's retries of one push (+10 s, +30 s) carry the same event, so they map
 * to the same id and SQS drops them within its 5-minute window. A copy sent back after a
 * throttle gets an id of its own per requeue, or SQS would drop it as the original's duplicate.
 */
export function deduplicationId(m: ChangeMessage): string {
  const parts: unknown[] = [m.kind, m.id, m.eventType, m.eventTime, m.corpId, m.eventId ?? ''];
  if (m.throttled) parts.push(`throttled:${m.throttled.requeues}`);
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}
