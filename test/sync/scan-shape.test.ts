/**
 * The reconcile's scan when `v2/user/list` gives order and leadership per listed department
 * (`dept_order`, `leader`) rather than as full lists: the person's entries are combined.
 * The fake DingTalk answers only what this test needs, in that documented-elsewhere shape.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DingTalkApi, resetDingTalkTokenCache } from '../../lib/dingtalk/api';
import { DINGTALK_ROOT_DEPT_ID } from '../../lib/sync/mapping';
import { readDingTalkScope } from '../../lib/sync/reconcile';
import { type FakePlatform, fakeDingTalkOptions, type Reply, startFakePlatform, stopFakePlatforms } from '../support/fake-platform';

const RD = 2;
const MARKETING = 4;

/** JSON text with bigint values written as plain numbers, so an order beyond 2^53 stays exact. */
function rawJson(value: unknown): Reply {
  return { raw: JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `__BIG${v}__` : v)).replace(/"__BIG(\d+)__"/g, '$1') };
}

let fake: FakePlatform;

beforeAll(async () => {
  resetDingTalkTokenCache();
  fake = await startFakePlatform(
    // APIs this test gives no answer for succeed with nothing in them.
    { ...fakeDingTalkOptions('k', 's'), unrouted: { json: { errcode: 0, errmsg: 'ok' } } },
    {
      'topapi/v2/department/listsub': (s) =>
        rawJson({
          errcode: 0,
          result:
            s.body?.dept_id === DINGTALK_ROOT_DEPT_ID
              ? [
                  { dept_id: RD, name: '研发部', parent_id: DINGTALK_ROOT_DEPT_ID },
                  { dept_id: MARKETING, name: '市场部', parent_id: DINGTALK_ROOT_DEPT_ID },
                ]
              : [],
        }),
      'topapi/v2/user/list': (s) => {
        const deptId = s.body?.dept_id;
        const entry = deptId === RD ? { dept_order: 176543210987654321n, leader: true } : deptId === MARKETING ? { dept_order: 5, leader: false } : undefined;
        const list = entry ? [{ userid: 'lisi', name: '李四', dept_id_list: [RD, MARKETING], ...entry }] : [];
        return rawJson({ errcode: 0, result: { has_more: false, list } });
      },
    },
  );
});
afterAll(stopFakePlatforms);

it('combines per-department order and leadership across a person’s listings', async () => {
  const dingtalk = new DingTalkApi({ appKey: 'k', appSecret: 's', baseUrl: fake.baseUrl });
  const { users } = await readDingTalkScope({
    dingtalk,
    config: { rootDeptIds: [DINGTALK_ROOT_DEPT_ID], excludeDeptIds: [] } as never,
    dingtalkCallsPerSecond: Infinity,
  });
  expect(users).toHaveLength(1);
  const lisi = users[0]!;
  expect(lisi.dept_order_list?.sort((a, b) => a.dept_id - b.dept_id)).toEqual([
    { dept_id: 2, order: '176543210987654321' },
    { dept_id: 4, order: '5' },
  ]);
  expect(lisi.leader_in_dept?.sort((a, b) => a.dept_id - b.dept_id)).toEqual([
    { dept_id: 2, leader: true },
    { dept_id: 4, leader: false },
  ]);
});
