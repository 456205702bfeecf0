import { describe, expect, it } from 'vitest';
import { EventParseError, parseEvent } from '../../lib/dingtalk/events';

describe('envelope A (PascalCase, real captures)', () => {
  it('turns a user event into one message per user id, user ids kept as strings', () => {
    const r = parseEvent('{"EventType":"user_add_org","CorpId":"dingcorp","UserId":["184919295227658120","manager164","2169122037-1513149549","0042"],"OptStaffId":"manager164","TimeStamp":"1640921671286"}');
    expect(r.action).toBe('enqueue');
    if (r.action !== 'enqueue') return;
    expect(r.messages.map((m) => m.id)).toEqual(['184919295227658120', 'manager164', '2169122037-1513149549', '0042']);
    expect(r.messages[0]).toEqual({ kind: 'user', id: '184919295227658120', eventType: 'user_add_org', eventTime: 1640921671286, corpId: 'dingcorp' });
  });

  it('keeps every digit of a 19-digit user id sent as a bare JSON number', () => {
    const r = parseEvent('{"EventType":"user_modify_org","CorpId":"c","UserId":[1849192952276581203],"TimeStamp":1640921671286}');
    expect(r.action === 'enqueue' && r.messages[0]!.id).toBe('1849192952276581203');
    expect(r.action === 'enqueue' && r.messages[0]!.eventTime).toBe(1640921671286);
  });

  it('accepts department ids as numbers or numeric strings', () => {
    const r = parseEvent('{"EventType":"org_dept_remove","CorpId":"c","DeptId":[581208264,"581208265"],"TimeStamp":"1640669222083"}');
    expect(r.action === 'enqueue' && r.messages.map((m) => [m.kind, m.id])).toEqual([
      ['dept', '581208264'],
      ['dept', '581208265'],
    ]);
  });

  it('drops repeated ids within one event', () => {
    const r = parseEvent('{"EventType":"org_dept_modify","CorpId":"c","DeptId":[5,"5",6]}');
    expect(r.action === 'enqueue' && r.messages.map((m) => m.id)).toEqual(['5', '6']);
  });
});

describe('envelope B (camel-case data, current docs)', () => {
  it('reads userId, EventTime and eventId', () => {
    const r = parseEvent('{"EventType":"user_leave_org","EventTime":1700000000000,"CorpId":"c","BizId":"b","eventId":"ev-1","userId":["u1","u2"]}');
    expect(r.action === 'enqueue' && r.messages).toEqual([
      { kind: 'user', id: 'u1', eventType: 'user_leave_org', eventTime: 1700000000000, corpId: 'c', eventId: 'ev-1' },
      { kind: 'user', id: 'u2', eventType: 'user_leave_org', eventTime: 1700000000000, corpId: 'c', eventId: 'ev-1' },
    ]);
  });
  it('reads deptId and timeStamp', () => {
    const r = parseEvent('{"EventType":"org_dept_create","CorpId":"c","deptId":[7],"timeStamp":"1700000000001"}');
    expect(r.action === 'enqueue' && r.messages[0]).toMatchObject({ kind: 'dept', id: '7', eventTime: 1700000000001 });
  });
  it('reads userIdList', () => {
    const r = parseEvent('{"EventType":"org_admin_add","CorpId":"c","userIdList":["a"]}');
    expect(r.action === 'enqueue' && r.messages[0]).toMatchObject({ kind: 'user', id: 'a', eventTime: 0 });
  });
});

describe('every contact event type', () => {
  it.each(['user_add_org', 'user_modify_org', 'user_leave_org', 'user_active_org', 'org_admin_add', 'org_admin_remove'])('%s → user messages', (type) => {
    const r = parseEvent(JSON.stringify({ EventType: type, CorpId: 'c', UserId: ['u'] }));
    expect(r.action === 'enqueue' && r.messages[0]!.kind).toBe('user');
  });
  it.each(['org_dept_create', 'org_dept_modify', 'org_dept_remove'])('%s → department messages', (type) => {
    const r = parseEvent(JSON.stringify({ EventType: type, CorpId: 'c', DeptId: [2] }));
    expect(r.action === 'enqueue' && r.messages[0]!.kind).toBe('dept');
  });
});

describe('acknowledged without messages', () => {
  it.each(['check_url', 'check_create_suite_url', 'check_update_suite_url'])('%s is a URL check', (type) => {
    expect(parseEvent(JSON.stringify({ EventType: type, Random: 'x', TestSuiteKey: 's' }))).toMatchObject({ action: 'acknowledge', reason: 'url_check' });
  });
  it.each(['org_change', 'org_remove', 'label_user_change', 'label_conf_add'])('%s is known and ignored', (type) => {
    expect(parseEvent(JSON.stringify({ EventType: type, CorpId: 'c' }))).toMatchObject({ action: 'acknowledge', reason: 'ignored_event' });
  });
  it('an unknown event type is acknowledged as unknown', () => {
    expect(parseEvent('{"EventType":"bpms_task_change","CorpId":"c"}')).toMatchObject({ action: 'acknowledge', reason: 'unknown_event', eventType: 'bpms_task_change' });
  });
});

describe('malformed events', () => {
  it.each([
    ['not JSON', 'EventType=user_add_org'],
    ['an array', '[1,2]'],
    ['null', 'null'],
    ['no EventType', '{"CorpId":"c","UserId":["u"]}'],
    ['a user event without ids', '{"EventType":"user_add_org","CorpId":"c"}'],
    ['a user event with an empty id list', '{"EventType":"user_add_org","CorpId":"c","UserId":[]}'],
    ['an empty user id', '{"EventType":"user_add_org","CorpId":"c","UserId":[""]}'],
    ['a user id that is an object', '{"EventType":"user_add_org","CorpId":"c","UserId":[{"id":1}]}'],
    ['a user id longer than 64 characters', `{"EventType":"user_add_org","CorpId":"c","UserId":["${'x'.repeat(65)}"]}`],
    ['a department id that is not a number', '{"EventType":"org_dept_create","CorpId":"c","DeptId":["abc"]}'],
    ['a negative department id', '{"EventType":"org_dept_create","CorpId":"c","DeptId":[-3]}'],
    ['a fractional department id', '{"EventType":"org_dept_create","CorpId":"c","DeptId":[2.5]}'],
  ])('%s is an EventParseError', (_name, text) => {
    expect(() => parseEvent(text)).toThrow(EventParseError);
  });
});
