/**
 * The reconcile's scan of DingTalk: how a person listed in several departments is combined, and
 * how reads DingTalk throttles are retried. (Paging and scope are covered by whole runs in
 * reconcile.test.ts.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DingTalkApi, resetDingTalkTokenCache } from '../../lib/dingtalk/api';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { createMemoryLogger } from '../../lib/log';
import type { DingTalkSimulator } from '../../lib/sandbox/dingtalk-sim';
import { startSimulators } from '../../lib/sandbox/simulators';
import { readDingTalkScope } from '../../lib/sync/dingtalk-scan';

/**
 * When `v2/user/list` gives order and leadership per listed department (`dept_order`, `leader`)
 * rather than as full lists, the person's entries are combined. The server answers only what
 * this test needs, in that documented-elsewhere shape.
 */
describe('a person listed in several departments is one user', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    resetDingTalkTokenCache();
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const path = new URL(req.url!, 'http://x').pathname;
        const input = body ? JSON.parse(body) : {};
        let answer: unknown = { errcode: 0, errmsg: 'ok' };
        if (path === '/gettoken') answer = { errcode: 0, access_token: 'tok', expires_in: 7200 };
        else if (path === '/topapi/v2/department/listsub')
          answer = {
            errcode: 0,
            result:
              input.dept_id === 1
                ? [
                    { dept_id: 2, name: '研发部', parent_id: 1 },
                    { dept_id: 4, name: '市场部', parent_id: 1 },
                  ]
                : [],
          };
        else if (path === '/topapi/v2/user/list') {
          const entry =
            input.dept_id === 2 ? { dept_order: 176543210987654321n, leader: true } : input.dept_id === 4 ? { dept_order: 5, leader: false } : undefined;
          const list = entry ? [{ userid: 'lisi', name: '李四', dept_id_list: [2, 4], ...entry }] : [];
          answer = { errcode: 0, result: { has_more: false, list } };
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(answer, (_k, v) => (typeof v === 'bigint' ? `__BIG${v}__` : v)).replace(/"__BIG(\d+)__"/g, '$1'));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('combines per-department order and leadership across a person’s listings', async () => {
    const dingtalk = new DingTalkApi({ appKey: 'k', appSecret: 's', baseUrl: base });
    const { users } = await readDingTalkScope({ dingtalk, config: { rootDeptIds: [1], excludeDeptIds: [] } as never, dingtalkCallsPerSecond: Infinity });
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
    });
    const config = { rootDeptIds: [1], excludeDeptIds: [] };
    return { scan: () => readDingTalkScope({ dingtalk, config, dingtalkCallsPerSecond: Infinity, readRetryDelaysMs }), dt: sims.dingtalk };
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
