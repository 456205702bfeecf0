import { describe, expect, it } from 'vitest';
import { DEPT_EVENTS, EventParseError, type ParsedEvent, parseEvent, USER_EVENTS } from '../../lib/dingtalk/events';
import type { ChangeMessage } from '../../lib/ports';

/** The messages of an event that must be enqueued; fails the test for an acknowledgement. */
function messages(r: ParsedEvent): ChangeMessage[] {
  if (r.action !== 'enqueue') throw new Error(`expected messages, got an acknowledgement (${r.reason})`);
  return r.messages;
}

const ids = (r: ParsedEvent) => messages(r).map((m) => m.id);

describe('envelope A (PascalCase, real captures)', () => {
  it('turns a user event into one message per user id, user ids kept as the strings they are', () => {
    const r = parseEvent(
      '{"EventType":"user_add_org","CorpId":"dingcorp","UserId":["184919295227658120","manager164","2169122037-1513149549","0042"],"OptStaffId":"manager164","TimeStamp":"1640921671286"}',
    );
    expect(r).toMatchObject({ action: 'enqueue', eventType: 'user_add_org', corpId: 'dingcorp' });
    expect(ids(r)).toEqual(['184919295227658120', 'manager164', '2169122037-1513149549', '0042']);
    expect(messages(r)[0]).toEqual({ kind: 'user', id: '184919295227658120', eventType: 'user_add_org', eventTime: 1640921671286, corpId: 'dingcorp' });
  });

  it('keeps every digit of a 19-digit user id sent as a bare JSON number (beyond 2^53)', () => {
    const r = parseEvent('{"EventType":"user_modify_org","CorpId":"c","UserId":[1849192952276581203,9007199254740993],"TimeStamp":1640921671286}');
    // JSON.parse would give 1849192952276581000 and 9007199254740992.
    expect(ids(r)).toEqual(['1849192952276581203', '9007199254740993']);
    expect(messages(r)[0]!.eventTime).toBe(1640921671286);
  });

  it('accepts a user id that is a small bare number', () => {
    expect(ids(parseEvent('{"EventType":"user_leave_org","CorpId":"c","UserId":[123]}'))).toEqual(['123']);
  });

  it('accepts department ids as numbers or numeric strings, as canonical decimal strings', () => {
    const r = parseEvent('{"EventType":"org_dept_remove","CorpId":"c","DeptId":[581208264,"581208265"," 7 ","0012"],"TimeStamp":"1640669222083"}');
    expect(messages(r).map((m) => [m.kind, m.id])).toEqual([
      ['dept', '581208264'],
      ['dept', '581208265'],
      ['dept', '7'],
      ['dept', '12'],
    ]);
  });

  it('keeps a department id beyond 2^53 exact (the worker, not the receiver, refuses it)', () => {
    expect(ids(parseEvent('{"EventType":"org_dept_modify","CorpId":"c","DeptId":[9007199254740993]}'))).toEqual(['9007199254740993']);
  });

  it('drops repeated ids within one event, keeping first-seen order', () => {
    expect(ids(parseEvent('{"EventType":"org_dept_modify","CorpId":"c","DeptId":[5,"5",6,"05",5]}'))).toEqual(['5', '6']);
    expect(ids(parseEvent('{"EventType":"user_modify_org","CorpId":"c","UserId":["b","a","b",123,"123"]}'))).toEqual(['b', 'a', '123']);
  });

  it('reads a TimeStamp given as a number, and uses 0 when there is none', () => {
    expect(messages(parseEvent('{"EventType":"user_add_org","CorpId":"c","UserId":["u"],"TimeStamp":1640921671286}'))[0]!.eventTime).toBe(1640921671286);
    expect(messages(parseEvent('{"EventType":"user_add_org","CorpId":"c","UserId":["u"]}'))[0]!.eventTime).toBe(0);
    expect(messages(parseEvent('{"EventType":"user_add_org","CorpId":"c","UserId":["u"],"TimeStamp":"soon"}'))[0]!.eventTime).toBe(0);
  });

  it('has no eventId field when the envelope has none', () => {
    expect(messages(parseEvent('{"EventType":"user_add_org","CorpId":"c","UserId":["u"]}'))[0]).not.toHaveProperty('eventId');
  });
});

describe('envelope B (camel-case data, current docs)', () => {
  it('reads userId, EventTime, CorpId and eventId', () => {
    const r = parseEvent('{"EventType":"user_leave_org","EventTime":1700000000000,"CorpId":"c","BizId":"b","eventId":"ev-1","userId":["u1","u2"]}');
    expect(messages(r)).toEqual([
      { kind: 'user', id: 'u1', eventType: 'user_leave_org', eventTime: 1700000000000, corpId: 'c', eventId: 'ev-1' },
      { kind: 'user', id: 'u2', eventType: 'user_leave_org', eventTime: 1700000000000, corpId: 'c', eventId: 'ev-1' },
    ]);
  });

  it('reads deptId and timeStamp', () => {
    const r = parseEvent('{"EventType":"org_dept_create","CorpId":"c","deptId":[7],"timeStamp":"1700000000001"}');
    expect(messages(r)[0]).toMatchObject({ kind: 'dept', id: '7', eventTime: 1700000000001 });
  });

  it('reads userIdList, and a lone id that is not in a list', () => {
    expect(ids(parseEvent('{"EventType":"org_admin_add","CorpId":"c","userIdList":["a","b"]}'))).toEqual(['a', 'b']);
    expect(ids(parseEvent('{"EventType":"org_admin_remove","CorpId":"c","userId":"a"}'))).toEqual(['a']);
    expect(ids(parseEvent('{"EventType":"org_dept_modify","CorpId":"c","deptId":42}'))).toEqual(['42']);
  });

  it('collapses the same ids given under two spellings', () => {
    expect(ids(parseEvent('{"EventType":"user_modify_org","CorpId":"c","userId":["a"],"userIdList":["a","b"]}'))).toEqual(['a', 'b']);
  });

  it('keeps a numeric eventId as its exact text', () => {
    expect(messages(parseEvent('{"EventType":"user_add_org","CorpId":"c","userId":["u"],"eventId":12345678901234567890}'))[0]!.eventId).toBe(
      '12345678901234567890',
    );
  });
});

describe('every contact event type', () => {
  it('the two sets are exactly the documented contact events', () => {
    expect([...USER_EVENTS].sort()).toEqual(['org_admin_add', 'org_admin_remove', 'user_active_org', 'user_add_org', 'user_leave_org', 'user_modify_org']);
    expect([...DEPT_EVENTS].sort()).toEqual(['org_dept_create', 'org_dept_modify', 'org_dept_remove']);
  });

  it.each([...USER_EVENTS])('%s → one user message per id', (type) => {
    const r = parseEvent(JSON.stringify({ EventType: type, CorpId: 'c', UserId: ['u1', 'u2'] }));
    expect(messages(r).map((m) => [m.kind, m.id, m.eventType])).toEqual([
      ['user', 'u1', type],
      ['user', 'u2', type],
    ]);
  });

  it.each([...DEPT_EVENTS])('%s → one department message per id', (type) => {
    const r = parseEvent(JSON.stringify({ EventType: type, CorpId: 'c', DeptId: [2, 3] }));
    expect(messages(r).map((m) => [m.kind, m.id, m.eventType])).toEqual([
      ['dept', '2', type],
      ['dept', '3', type],
    ]);
  });

  it('a user event reads only user ids, a department event only department ids', () => {
    expect(messages(parseEvent('{"EventType":"user_modify_org","CorpId":"c","UserId":["u"],"DeptId":[9]}')).map((m) => m.kind)).toEqual(['user']);
    expect(messages(parseEvent('{"EventType":"org_dept_modify","CorpId":"c","UserId":["u"],"DeptId":[9]}')).map((m) => m.kind)).toEqual(['dept']);
  });
});

describe('acknowledged without messages', () => {
  it.each(['check_url', 'check_create_suite_url', 'check_update_suite_url'])('%s is a URL check', (type) => {
    expect(parseEvent(JSON.stringify({ EventType: type, Random: 'x', TestSuiteKey: 's' }))).toEqual({
      action: 'acknowledge',
      reason: 'url_check',
      eventType: type,
      corpId: '',
    });
  });

  it.each(['org_change', 'org_remove', 'label_user_change', 'label_conf_add', 'label_conf_del', 'label_conf_modify'])('%s is known and ignored', (type) => {
    expect(parseEvent(JSON.stringify({ EventType: type, CorpId: 'c', UserIdList: ['u'], LabelIdList: [1] }))).toEqual({
      action: 'acknowledge',
      reason: 'ignored_event',
      eventType: type,
      corpId: 'c',
    });
  });

  it('an unknown event type is acknowledged as unknown, whatever it carries', () => {
    expect(parseEvent('{"EventType":"bpms_task_change","CorpId":"c","UserId":["u"]}')).toEqual({
      action: 'acknowledge',
      reason: 'unknown_event',
      eventType: 'bpms_task_change',
      corpId: 'c',
    });
  });
});

describe('malformed events', () => {
  it.each([
    ['not JSON', 'EventType=user_add_org'],
    ['truncated JSON', '{"EventType":"user_add_org","UserId":["u"'],
    ['an array', '[1,2]'],
    ['a string', '"user_add_org"'],
    ['null', 'null'],
    ['no EventType', '{"CorpId":"c","UserId":["u"]}'],
    ['an empty EventType', '{"EventType":"","CorpId":"c","UserId":["u"]}'],
    ['a numeric EventType', '{"EventType":7,"CorpId":"c","UserId":["u"]}'],
    ['a user event without ids', '{"EventType":"user_add_org","CorpId":"c"}'],
    ['a user event with an empty id list', '{"EventType":"user_add_org","CorpId":"c","UserId":[]}'],
    ['a user event with only department ids', '{"EventType":"user_add_org","CorpId":"c","DeptId":[1]}'],
    ['an empty user id', '{"EventType":"user_add_org","CorpId":"c","UserId":[""]}'],
    ['a null user id', '{"EventType":"user_add_org","CorpId":"c","UserId":[null]}'],
    ['a user id that is an object', '{"EventType":"user_add_org","CorpId":"c","UserId":[{"id":1}]}'],
    ['a user id that is a fraction', '{"EventType":"user_add_org","CorpId":"c","UserId":[1.5]}'],
    ['a user id longer than 64 characters', `{"EventType":"user_add_org","CorpId":"c","UserId":["${'x'.repeat(65)}"]}`],
    ['a department event without ids', '{"EventType":"org_dept_create","CorpId":"c"}'],
    ['a department id that is not a number', '{"EventType":"org_dept_create","CorpId":"c","DeptId":["abc"]}'],
    ['a department id of 0', '{"EventType":"org_dept_create","CorpId":"c","DeptId":[0]}'],
    ['a negative department id', '{"EventType":"org_dept_create","CorpId":"c","DeptId":[-3]}'],
    ['a fractional department id', '{"EventType":"org_dept_create","CorpId":"c","DeptId":[2.5]}'],
    ['a department id in exponent form', '{"EventType":"org_dept_create","CorpId":"c","DeptId":[1e3]}'],
    ['a department id beyond int64', '{"EventType":"org_dept_create","CorpId":"c","DeptId":["9223372036854775808"]}'],
    ['one bad id among good ones', '{"EventType":"org_dept_create","CorpId":"c","DeptId":[2,"x",3]}'],
  ])('%s is an EventParseError', (_name, text) => {
    expect(() => parseEvent(text)).toThrow(EventParseError);
  });

  it('the error describes the shape, never the content', () => {
    const secretish = 'zhangsan-private-value';
    try {
      parseEvent(`{"EventType":"user_add_org","CorpId":"${secretish}","UserId":["${secretish.repeat(5)}"]}`);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EventParseError);
      expect((e as Error).message).not.toContain(secretish);
      expect((e as Error).message).toContain('user_add_org');
    }
  });
});
