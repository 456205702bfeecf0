/**
 * The reconcile's scan of DingTalk: how a person listed in several departments is combined, and
 * how reads DingTalk throttles are retried. (Paging and scope are covered by whole runs in
 * reconcile.test.ts.)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DingTalkApi, resetDingTalkTokenCache } from '../../lib/dingtalk/api';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { ERRCODE_PROTOCOL } from '../../lib/errors';
import { createMemoryLogger } from '../../lib/log';
import type { DingTalkDirectory } from '../../lib/ports';
import type { DingTalkSimulator } from '../../lib/sandbox/dingtalk-sim';
import { startSimulators } from '../../lib/sandbox/simulators';
import { readDingTalkScope } from '../../lib/sync/dingtalk-scan';
import { DINGTALK_ROOT_DEPT_ID } from '../../lib/sync/mapping';
import { type FakePlatform, fakeDingTalkOptions, type Reply, startFakePlatform, stopFakePlatforms } from '../support/fake-platform';

/**
 * When `v2/user/list` gives order and leadership per listed department (`dept_order`, `leader`)
 * rather than as full lists, the person's entries are combined. The server answers only what
 * this test needs, in that documented-elsewhere shape.
 */
describe('a person listed in several departments is one user', () => {
  const RD = 2;
  const MARKETING = 4;
  /** JSON text with bigint values written as plain numbers, so an order beyond 2^53 stays exact. */
  const rawJson = (value: unknown): Reply => ({
    raw: JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `__BIG${v}__` : v)).replace(/"__BIG(\d+)__"/g, '$1'),
  });
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
    });
    expect(users).toHaveLength(1);
    const lisi = users[0]!;
    expect(lisi.dept_order_list?.sort((a, b) => a.dept_id - b.dept_id)).toEqual([
      { dept_id: RD, order: '176543210987654321' },
      { dept_id: MARKETING, order: '5' },
    ]);
    expect(lisi.leader_in_dept?.sort((a, b) => a.dept_id - b.dept_id)).toEqual([
      { dept_id: RD, leader: true },
      { dept_id: MARKETING, leader: false },
    ]);
  });
});

describe('a read DingTalk throttles is retried, with the configured waits', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  async function scanWith(readRetryDelaysMs: number[], prepare: (dt: DingTalkSimulator) => void) {
    resetDingTalkTokenCache();
    const sims = await startSimulators({ dingtalk: { retryDelaysMs: [] } });
    stop = sims.stop;
    prepare(sims.dingtalk);
    const { env } = sims;
    const dingtalk = new DingTalkApi({
      appKey: env.DINGTALK_APP_KEY!,
      appSecret: env.DINGTALK_APP_SECRET!,
      baseUrl: env.DINGTALK_API_BASE!,
      logger: createMemoryLogger(),
      throttleDelaysMs: [], // the scan's own retries, not the client's waits for a throttle
    });
    const config = { rootDeptIds: [1], excludeDeptIds: [] };
    return { scan: () => readDingTalkScope({ dingtalk, config, readRetryDelaysMs }), dt: sims.dingtalk };
  }

  it('retries once per configured delay, waiting it, then reads everything', async () => {
    const { scan, dt } = await scanWith([30, 30], (dt) => dt.failNext('topapi/v2/department/listsub', DINGTALK_ERR.rateLimited, 2));
    const started = performance.now();
    const { depts, users } = await scan();
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(depts.map((d) => d.dept_id).sort()).toEqual([2, 3, 4]);
    expect(users).toHaveLength(3);
    expect(dt.calls['topapi/v2/department/listsub']).toBe(2 + 4); // two refused, then one per department
  });

  it('fails the scan when the read is still throttled after the last delay', async () => {
    const { scan } = await scanWith([0], (dt) => dt.failNext('topapi/v2/department/listsub', DINGTALK_ERR.rateLimited, 2));
    await expect(scan()).rejects.toMatchObject({ errcode: DINGTALK_ERR.rateLimited });
  });

  it('does not retry a read DingTalk refuses for good', async () => {
    const { scan, dt } = await scanWith([0, 0], (dt) => dt.failNext('topapi/v2/department/listsub', DINGTALK_ERR.badCredentials, 1));
    await expect(scan()).rejects.toMatchObject({ errcode: DINGTALK_ERR.badCredentials });
    expect(dt.calls['topapi/v2/department/listsub']).toBe(1);
  });
});

describe('paging through a department’s members', () => {
  it('fails the scan, retryably, when user/list hands back a cursor it already followed', async () => {
    const asked: number[] = [];
    const dingtalk = {
      listSubDepts: async () => [],
      listUsers: async (_dept: number, cursor: number) => {
        asked.push(cursor);
        return { hasMore: true, nextCursor: cursor === 0 ? 100 : 0, list: [] };
      },
    } as unknown as DingTalkDirectory;
    const config = { rootDeptIds: [1], excludeDeptIds: [] };
    await expect(readDingTalkScope({ dingtalk, config })).rejects.toMatchObject({
      errcode: ERRCODE_PROTOCOL,
      failure: 'retryable',
    });
    expect(asked).toEqual([0, 100]);
  });
});
