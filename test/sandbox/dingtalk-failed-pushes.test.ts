/**
 * DingTalk's failed-push list on its own (lib/sandbox/dingtalk-failed-pushes.ts); the
 * `get_call_back_failed_result` route over it is tested in dingtalk-http.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FailedPushList } from '../../lib/sandbox/dingtalk-failed-pushes';

const push = (userid: string) => ({ eventType: 'user_modify_org', eventTime: 1, userIds: [userid], deptIds: [] });

describe('failed-push list forgets each page once read', () => {
  it('serves 200 records a read, oldest first, and deletes them at the next read', () => {
    const list = new FailedPushList();
    for (let i = 0; i < 205; i++) list.record(push(`u${i}`));
    const first = list.read();
    expect(first.hasMore).toBe(true);
    expect(first.page).toHaveLength(200);
    expect(first.page[0]!.userIds).toEqual(['u0']);
    expect(list.backlog).toBe(205); // nothing is forgotten until the next read

    list.record(push('late'));
    const second = list.read();
    expect(second.page.map((p) => p.userIds[0])).toEqual(['u200', 'u201', 'u202', 'u203', 'u204', 'late']);
    expect(second.hasMore).toBe(false);
    expect(list.backlog).toBe(6);

    expect(list.read()).toEqual({ page: [], hasMore: false });
    expect(list.backlog).toBe(0);
  });

  it('an empty list reads as an empty last page, and a record after it is served next', () => {
    const list = new FailedPushList();
    expect(list.read()).toEqual({ page: [], hasMore: false });
    list.record(push('a'));
    expect(list.read().page).toEqual([push('a')]);
  });
});
