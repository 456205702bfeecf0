/**
 * DingTalk event plaintext → change messages (platform/dingtalk.md §2). Pure: no I/O.
 *
 * Two envelopes exist: A (PascalCase, every real capture: `UserId`, `DeptId`, `TimeStamp`) and
 * B (current docs: `EventTime`, `eventId`, camel-case `userId`, `deptId`, `userIdList`). Ids may
 * be numbers or strings. User ids are opaque: a 19-digit id sent as a bare JSON number must not
 * be rounded, so the plaintext is parsed losslessly and numbers keep their exact text.
 */
import { isLosslessNumber, parse } from 'lossless-json';
import type { ChangeMessage, EntityKind } from '../ports';

export class EventParseError extends Error {
  override readonly name = 'EventParseError';
}

export type ParsedEvent =
  | { action: 'enqueue'; eventType: string; corpId: string; messages: ChangeMessage[] }
  | { action: 'acknowledge'; reason: 'url_check' | 'ignored_event' | 'unknown_event'; eventType: string; corpId: string };

const USER_EVENTS = new Set(['user_add_org', 'user_modify_org', 'user_leave_org', 'user_active_org', 'org_admin_add', 'org_admin_remove']);
const DEPT_EVENTS = new Set(['org_dept_create', 'org_dept_modify', 'org_dept_remove']);
const URL_CHECKS = new Set(['check_url', 'check_create_suite_url', 'check_update_suite_url']);
/** Known, but nothing a contact sync acts on (org_change is followed by org_dept_modify of [1]). */
const IGNORED = new Set(['org_change', 'org_remove', 'label_user_change', 'label_conf_add', 'label_conf_del', 'label_conf_modify']);

const USER_ID_KEYS = ['UserId', 'userId', 'userIdList', 'UserIdList'];
const DEPT_ID_KEYS = ['DeptId', 'deptId', 'deptIdList', 'DeptIdList'];
const MAX_ID_LENGTH = 64;

export function parseEvent(plaintext: string): ParsedEvent {
  let parsed: unknown;
  try {
    parsed = parse(plaintext);
  } catch {
    throw new EventParseError('event is not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new EventParseError('event is not a JSON object');
  const event = parsed as Record<string, unknown>;
  const eventType = event.EventType ?? event.eventType;
  if (typeof eventType !== 'string' || eventType === '') throw new EventParseError('event has no EventType');
  const corpId = text(event.CorpId ?? event.corpId) ?? '';

  if (URL_CHECKS.has(eventType)) return { action: 'acknowledge', reason: 'url_check', eventType, corpId };
  const kind: EntityKind | undefined = USER_EVENTS.has(eventType) ? 'user' : DEPT_EVENTS.has(eventType) ? 'dept' : undefined;
  if (!kind) return { action: 'acknowledge', reason: IGNORED.has(eventType) ? 'ignored_event' : 'unknown_event', eventType, corpId };

  const ids = kind === 'user' ? userIds(event) : deptIds(event);
  if (ids.length === 0) throw new EventParseError(`${eventType} carries no ${kind === 'user' ? 'user' : 'department'} ids`);
  const eventTime = timeOf(event);
  const eventId = text(event.eventId ?? event.EventId);
  const messages = ids.map((id) => {
    const m: ChangeMessage = { kind, id, eventType, eventTime, corpId };
    if (eventId !== undefined) m.eventId = eventId;
    return m;
  });
  return { action: 'enqueue', eventType, corpId, messages };
}

/** A string, or a number's exact text; anything else is undefined. */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isLosslessNumber(v)) return v.value;
  return undefined;
}

function idList(event: Record<string, unknown>, keys: string[]): unknown[] {
  const out: unknown[] = [];
  for (const key of keys) {
    const v = event[key];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) out.push(...v);
    else out.push(v); // a lone id, as some envelope-B samples show
  }
  return out;
}

function userIds(event: Record<string, unknown>): string[] {
  const ids = idList(event, USER_ID_KEYS).map((v) => {
    const id = text(v);
    if (id === undefined || id === '' || id.length > MAX_ID_LENGTH) throw new EventParseError('a user id is not a non-empty string of at most 64 characters');
    return id;
  });
  return [...new Set(ids)];
}

function deptIds(event: Record<string, unknown>): string[] {
  const ids = idList(event, DEPT_ID_KEYS).map((v) => {
    const id = text(v)?.trim();
    if (id === undefined || !/^[1-9]\d{0,18}$/.test(id)) throw new EventParseError('a department id is not a positive whole number');
    return id;
  });
  return [...new Set(ids)];
}

function timeOf(event: Record<string, unknown>): number {
  for (const key of ['TimeStamp', 'EventTime', 'timeStamp', 'eventTime']) {
    const t = text(event[key]);
    if (t !== undefined && /^\d{1,16}$/.test(t)) return Number(t);
  }
  return 0;
}
