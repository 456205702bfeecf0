/**
 * DingTalk event plaintext → change messages (both envelopes DingTalk sends: the PascalCase one seen in real captures and the camelCase one of the current documentation). Pure: no I/O.
 *
 * Two envelopes exist: A (PascalCase, every real capture: `UserId`, `DeptId`, `TimeStamp`) and
 * B (current docs: `EventTime`, `eventId`, camel-case `userId`, `deptId`, `userIdList`). Ids may
 * be numbers or strings. User ids are opaque: a 19-digit id sent as a bare JSON number must not
 * be rounded, so the plaintext is parsed losslessly and every number keeps its exact text.
 *
 * A contact event becomes one message per entity ("this entity may have changed": the worker re-reads it, so duplicates and reordering converge);
 * anything else is acknowledged without messages. A malformed event is an EventParseError, which
 * the receiver answers with 400 so that DingTalk lists the push as failed instead of us
 * acknowledging something we could not read.
 */
import { isLosslessNumber, parse } from 'lossless-json';
import type { ChangeMessage, EntityKind } from '../ports';

export class EventParseError extends Error {
  override readonly name = 'EventParseError';
}

type AcknowledgeReason = 'url_check' | 'ignored_event' | 'unknown_event';

export type ParsedEvent =
  | { action: 'enqueue'; eventType: string; corpId: string; messages: ChangeMessage[] }
  | { action: 'acknowledge'; reason: AcknowledgeReason; eventType: string; corpId: string };

export const USER_EVENTS: ReadonlySet<string> = new Set([
  'user_add_org',
  'user_modify_org',
  'user_leave_org',
  'user_active_org',
  'org_admin_add',
  'org_admin_remove',
]);
export const DEPT_EVENTS: ReadonlySet<string> = new Set(['org_dept_create', 'org_dept_modify', 'org_dept_remove']);
/** Sent when the URL is saved or registered: DingTalk only wants the encrypted `success`. */
const URL_CHECK_EVENTS: ReadonlySet<string> = new Set(['check_url', 'check_create_suite_url', 'check_update_suite_url']);
/**
 * Known, but nothing a contact sync acts on: org_change is followed by an org_dept_modify of
 * [1], org_remove is for a human to handle, labels are roles.
 */
const IGNORED_EVENTS: ReadonlySet<string> = new Set(['org_change', 'org_remove', 'label_user_change', 'label_conf_add', 'label_conf_del', 'label_conf_modify']);

// Envelope A and B spell the id lists differently; reading every spelling costs nothing, and a
// list repeated under two names collapses in the deduplication.
const USER_ID_KEYS = ['UserId', 'userId', 'userIdList', 'UserIdList'];
const DEPT_ID_KEYS = ['DeptId', 'deptId', 'deptIdList', 'DeptIdList'];
const TIME_KEYS = ['TimeStamp', 'EventTime', 'timeStamp', 'eventTime'];
/** DingTalk's documented userid limit. */
const MAX_USER_ID_LENGTH = 64;
/** SDKs type dept_id as int64. */
const MAX_DEPT_ID = 2n ** 63n - 1n;

export function parseEvent(plaintext: string): ParsedEvent {
  let parsed: unknown;
  try {
    parsed = parse(plaintext);
  } catch {
    throw new EventParseError('event is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new EventParseError('event is not a JSON object');
  }
  const event = parsed as Record<string, unknown>;
  const eventType = event.EventType ?? event.eventType;
  if (typeof eventType !== 'string' || eventType === '') throw new EventParseError('event has no EventType');
  const corpId = text(event.CorpId ?? event.corpId) ?? '';

  if (URL_CHECK_EVENTS.has(eventType)) return { action: 'acknowledge', reason: 'url_check', eventType, corpId };
  const kind: EntityKind | undefined = USER_EVENTS.has(eventType) ? 'user' : DEPT_EVENTS.has(eventType) ? 'dept' : undefined;
  if (kind === undefined) {
    return { action: 'acknowledge', reason: IGNORED_EVENTS.has(eventType) ? 'ignored_event' : 'unknown_event', eventType, corpId };
  }

  const ids = kind === 'user' ? userIds(event, eventType) : deptIds(event, eventType);
  const eventTime = timeOf(event);
  const eventId = text(event.eventId ?? event.EventId);
  const messages = ids.map((id) => {
    const m: ChangeMessage = { kind, id, eventType, eventTime, corpId };
    if (eventId !== undefined) m.eventId = eventId;
    return m;
  });
  return { action: 'enqueue', eventType, corpId, messages };
}

/** A string, or a number's exact source text; anything else is undefined. */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isLosslessNumber(v)) return v.value;
  return undefined;
}

function rawIds(event: Record<string, unknown>, keys: readonly string[]): unknown[] {
  const out: unknown[] = [];
  for (const key of keys) {
    const v = event[key];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) out.push(...(v as unknown[]));
    else out.push(v); // a lone id, as some envelope-B samples show
  }
  return out;
}

function userIds(event: Record<string, unknown>, eventType: string): string[] {
  const ids = rawIds(event, USER_ID_KEYS).map((v) => {
    // A bare number is only plausible as the digits of a numeric userid (e.g. 184919295227658120).
    if (isLosslessNumber(v) && !/^\d+$/.test(v.value)) throw new EventParseError(`${eventType}: a user id is a number that is not a whole number`);
    const id = text(v);
    if (id === undefined || id === '' || id.length > MAX_USER_ID_LENGTH) {
      throw new EventParseError(`${eventType}: a user id is not a string of 1 to ${MAX_USER_ID_LENGTH} characters`);
    }
    return id;
  });
  if (ids.length === 0) throw new EventParseError(`${eventType} carries no user ids`);
  return [...new Set(ids)];
}

function deptIds(event: Record<string, unknown>, eventType: string): string[] {
  const ids = rawIds(event, DEPT_ID_KEYS).map((v) => {
    const digits = text(v)?.trim();
    if (digits === undefined || !/^\d{1,30}$/.test(digits)) {
      throw new EventParseError(`${eventType}: a department id is not a whole number`);
    }
    const n = BigInt(digits);
    if (n < 1n || n > MAX_DEPT_ID) throw new EventParseError(`${eventType}: a department id is out of range`);
    // Canonical decimal, so "007", "7" and 7 are one entity, one FIFO group and one dedup id.
    return n.toString();
  });
  if (ids.length === 0) throw new EventParseError(`${eventType} carries no department ids`);
  return [...new Set(ids)];
}

function timeOf(event: Record<string, unknown>): number {
  for (const key of TIME_KEYS) {
    const t = text(event[key])?.trim();
    if (t !== undefined && /^\d{1,15}$/.test(t)) return Number(t);
  }
  return 0;
}
