/**
 * The trail of one change: a correlation id that follows it from what set it off (a DingTalk
 * push, a reconcile run, a failed-push sweep) through the callback's log, the queue message, the
 * worker's log and the WeCom write, to the entity's history. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { ChangeMessage, EntityKind } from '../ports';

/**
 * How a change came to be synced: pushed to the callback, found in DingTalk's failed-push list,
 * compared by a reconcile run, read from a queue message that carried no trail (one enqueued
 * before trails existed), or a direct call outside any of these (tests, scripts).
 */
type TriggerSource = 'push' | 'failed_push_sweep' | 'reconcile' | 'queue' | 'direct';

export interface Trigger {
  source: TriggerSource;
  /** The DingTalk EventType (push, failed-push sweep, queue). */
  eventType?: string;
  /** When DingTalk says the event happened, ISO 8601 (absent when DingTalk did not say). */
  eventTime?: string;
  /** The reconcile run: the one that compared the entity, or whose sweep found the push. */
  runId?: string;
}

export interface Trail {
  correlationId: string;
  trigger: Trigger;
}

/** What a queue message carries besides its body (as SQS message attributes). */
export interface MessageTrail {
  correlationId: string;
  source: 'push' | 'failed_push_sweep';
  runId?: string;
}

/** `user:<userid>` / `dept:<id>`: how logs and saved queries name an entity. */
export function entityRef(kind: EntityKind, id: string): string {
  return `${kind}:${id}`;
}

/**
 * The correlation id of a DingTalk event, derived from what it says rather than drawn at random:
 * DingTalk's retries of one push (+10 s, +30 s) and the failed-push record of a push it gave up
 * on name the same event, so they share one trail. The entities are sorted: their order in the
 * event says nothing.
 */
export function eventCorrelationId(event: { eventType: string; eventTime: number; corpId: string; entities: readonly string[] }): string {
  return createHash('sha256')
    .update([event.eventType, String(event.eventTime), event.corpId, ...[...event.entities].sort()].join('\u0000'))
    .digest('hex')
    .slice(0, 24);
}

/** An event time as the trail states it: ISO 8601, or absent when DingTalk gave none (0). */
export function eventTimeText(eventTime: number): string | undefined {
  return eventTime > 0 && Number.isFinite(eventTime) ? new Date(eventTime).toISOString() : undefined;
}

/**
 * The trail of a change message: its own when it carries one, else one made from the message
 * (source `queue`) with `fallbackId` (the queue's message id) as the correlation id.
 */
export function trailOfMessage(m: ChangeMessage, fallbackId: string): Trail {
  const trigger: Trigger = { source: m.trail?.source ?? 'queue', eventType: m.eventType, eventTime: eventTimeText(m.eventTime) };
  if (m.trail?.runId) trigger.runId = m.trail.runId;
  return { correlationId: m.trail?.correlationId ?? fallbackId, trigger };
}

/** The trail of the changes one reconcile run makes itself. */
export function reconcileTrail(runId: string): Trail {
  return { correlationId: runId, trigger: { source: 'reconcile', runId } };
}

/** One line describing a trigger, for tables. */
export function describeTrigger(t: Trigger): string {
  const parts: string[] = [t.source === 'reconcile' ? 'reconcile' : (t.eventType ?? t.source)];
  if (t.eventTime) parts.push(`@ ${t.eventTime}`);
  if (t.source === 'failed_push_sweep') parts.push('(failed-push sweep)');
  if (t.runId) parts.push(`run ${t.runId}`);
  return parts.join(' ');
}
