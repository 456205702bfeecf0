/**
 * DingTalk's answers read on their own (lib/dingtalk/answers.ts): JSON text in, the port's shapes
 * out. test/dingtalk/api.test.ts checks the same readers through the client and a fake server.
 */
import { describe, expect, it } from 'vitest';
import {
  deptAnswer,
  failedPushesAnswer,
  parseAnswer,
  ShapeError,
  subDeptsAnswer,
  UnsafeIntegerError,
  userAnswer,
  userIdsAnswer,
  userPageAnswer,
} from '../../lib/dingtalk/answers';

type Obj = Record<string, unknown>;
const read = (text: string) => parseAnswer(text) as Obj;

describe('answers are parsed without losing a digit', () => {
  it('keeps every order as exact decimal text, however large', () => {
    expect(read('{"order":176543210987654321,"result":{"order":3,"list":[{"order":-0}]}}')).toEqual({
      order: '176543210987654321',
      result: { order: '3', list: [{ order: '0' }] },
    });
  });

  it('turns other numbers into numbers when exact, and into their text when not', () => {
    expect(read('{"dept_id":581208264,"ratio":0.5,"big":9007199254740993,"ids":[1,12345678901234567890]}')).toEqual({
      dept_id: 581208264,
      ratio: 0.5,
      big: '9007199254740993',
      ids: [1, '12345678901234567890'],
    });
  });

  it('throws on text that is not JSON', () => {
    expect(() => parseAnswer('<html>访问被拒绝</html>')).toThrow();
  });
});

describe('user and department answers follow the documented shapes', () => {
  it('leaves out the fields DingTalk leaves out or sends as null', () => {
    expect(userAnswer(read('{"result":{"userid":"alice","name":"Alice","dept_id_list":[2],"mobile":null,"active":true,"admin":"yes"}}'))).toEqual({
      userid: 'alice',
      name: 'Alice',
      dept_id_list: [2],
      active: true,
    });
  });

  it('takes a numeric userid as its decimal text, and an absent name as empty for the mapping to refuse', () => {
    expect(userAnswer(read('{"result":{"userid":184919295227658120,"dept_id_list":[1]}}'))).toEqual({
      userid: '184919295227658120',
      name: '',
      dept_id_list: [1],
    });
  });

  it('refuses a person without dept_id_list and a department without parent_id (but the root): absent, they would read as departures', () => {
    expect(() => userAnswer(read('{"result":{"userid":"alice","name":"Alice"}}'))).toThrow(new ShapeError('dept_id_list is not an array'));
    expect(() => userAnswer(read('{"result":{"userid":"alice","name":"Alice","dept_id_list":null}}'))).toThrow(ShapeError);
    expect(() => userPageAnswer(read('{"result":{"has_more":false,"list":[{"userid":"lisi","name":"李四"}]}}'), 2)).toThrow(ShapeError);
    expect(() => deptAnswer(read('{"result":{"dept_id":7,"name":"R&D"}}'))).toThrow(new ShapeError('department 7 has no parent_id'));
    expect(() => subDeptsAnswer(read('{"result":[{"dept_id":8,"name":"QA","parent_id":null}]}'))).toThrow(ShapeError);
    expect(deptAnswer(read('{"result":{"dept_id":1,"name":"公司"}}'))).toEqual({ dept_id: 1, name: '公司' });
  });

  it('refuses an answer without its result, an id beyond 2^53 and an order entry without an order', () => {
    expect(() => userAnswer(read('{"errcode":0}'))).toThrow(new ShapeError('result is not an object'));
    expect(() => deptAnswer(read('{"result":{"dept_id":9007199254740993,"name":"x"}}'))).toThrow(
      new UnsafeIntegerError('dept_id 9007199254740993 is not a safe integer'),
    );
    // Not an integer at all is the shape, not a value too big to hold.
    for (const id of ['1.5', '"x"', 'null']) {
      const e = (() => {
        try {
          deptAnswer(read(`{"result":{"dept_id":${id},"name":"x"}}`));
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(ShapeError);
      expect(e).not.toBeInstanceOf(UnsafeIntegerError);
    }
    expect(() => userAnswer(read('{"result":{"userid":"a","dept_id_list":[2],"dept_order_list":[{"dept_id":2}]}}'))).toThrow(ShapeError);
  });

  it('reads departments and their sub-departments, order as text', () => {
    expect(deptAnswer(read('{"result":{"dept_id":7,"name":"R&D","parent_id":1,"order":3}}'))).toEqual({ dept_id: 7, name: 'R&D', parent_id: 1, order: '3' });
    expect(subDeptsAnswer(read('{"result":[{"dept_id":8,"name":"QA","parent_id":7,"parent_id_unused":null}]}'))).toEqual([
      { dept_id: 8, name: 'QA', parent_id: 7 },
    ]);
    expect(() => subDeptsAnswer(read('{"result":{}}'))).toThrow(new ShapeError('result is not an array'));
  });
});

describe('user pages and id lists keep everything the listed department says', () => {
  it("turns a listed member's dept_order and leader into entries for that department", () => {
    const page = userPageAnswer(
      read('{"result":{"has_more":false,"list":[{"userid":"lisi","name":"李四","dept_id_list":[2],"dept_order":176543210987654321,"leader":true}]}}'),
      2,
    );
    expect(page).toEqual({
      hasMore: false,
      list: [
        {
          userid: 'lisi',
          name: '李四',
          dept_id_list: [2],
          dept_order_list: [{ dept_id: 2, order: '176543210987654321' }],
          leader_in_dept: [{ dept_id: 2, leader: true }],
        },
      ],
    });
  });

  it('reads only what a list item documents: a manager or full lists in it are not read', () => {
    const page = userPageAnswer(
      read(
        '{"result":{"list":[{"userid":"a","dept_id_list":[2,3],"dept_order":5,"leader":true,"manager_userid":"m","dept_order_list":[{"dept_id":3,"order":9}],"leader_in_dept":[]}]}}',
      ),
      2,
    );
    expect(page.list[0]).toEqual({
      userid: 'a',
      name: '',
      dept_id_list: [2, 3],
      dept_order_list: [{ dept_id: 2, order: '5' }],
      leader_in_dept: [{ dept_id: 2, leader: true }],
    });
  });

  it('refuses has_more without a next_cursor, which would end the scan early', () => {
    expect(() => userPageAnswer(read('{"result":{"has_more":true,"list":[]}}'), 2)).toThrow(new ShapeError('has_more without next_cursor'));
    expect(userPageAnswer(read('{"result":{"has_more":true,"next_cursor":100}}'), 2)).toEqual({ hasMore: true, nextCursor: 100, list: [] });
  });

  it('reads user ids as strings, and no list as none', () => {
    expect(userIdsAnswer(read('{"result":{"userid_list":["alice",42]}}'))).toEqual(['alice', '42']);
    expect(userIdsAnswer(read('{"result":{}}'))).toEqual([]);
  });
});

describe('failed pushes are read as far as they can be, never refused', () => {
  it('skips records that are not objects and reads an odd event_time as 0', () => {
    expect(
      failedPushesAnswer(read('{"failed_list":[1,"x",{"call_back_tag":"user_add_org","event_time":99999999999999999999,"data":{"userId":["u1",""]}}]}')),
    ).toEqual({
      hasMore: false,
      failed: [{ eventType: 'user_add_org', eventTime: 0, corpId: '', userIds: ['u1'], deptIds: [] }],
    });
  });

  it('answers an empty page when failed_list is missing or not a list', () => {
    expect(failedPushesAnswer(read('{"has_more":true}'))).toEqual({ hasMore: true, failed: [] });
    expect(failedPushesAnswer(read('{"failed_list":{}}'))).toEqual({ hasMore: false, failed: [] });
  });

  it('finds ids in a data field given as JSON text, and ignores one that is not JSON', () => {
    const page = failedPushesAnswer(
      read(
        '{"failed_list":[{"call_back_tag":"org_dept_create","event_time":1,"a":"{\\"dept_id\\":[5]}","b":"{not json","c":{"deptIdList":"6","CorpId":"ding"}}]}',
      ),
    );
    expect(page.failed).toEqual([{ eventType: 'org_dept_create', eventTime: 1, corpId: 'ding', userIds: [], deptIds: ['5', '6'] }]);
  });
});
