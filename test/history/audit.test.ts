/**
 * What the sync keeps in each entity's history, through the whole pipeline (DingTalk simulator →
 * signed push → callback → queue → worker → WeCom simulator): one item per outcome, field names
 * without values, the errcode, and the push's correlation id from the callback's log line to the
 * WeCom write.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryStore } from '../../lib/history/history';
import { createMemoryLogger } from '../../lib/log';
import { createMemoryMetrics } from '../../lib/metrics/metrics';
import { type SandboxPipeline, startSandboxPipeline } from '../../lib/sandbox/pipeline';
import { EntitySync } from '../../lib/sync/entity';
import { runReconcile } from '../../lib/sync/reconcile';

let h: SandboxPipeline | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function pipeline(env: Record<string, string> = {}) {
  const metrics = createMemoryMetrics();
  h = await startSandboxPipeline(env, { metrics });
  return Object.assign(h, { metrics });
}

const results = async (p: SandboxPipeline, kind: 'user' | 'dept', id: string) => (await p.history.history(kind, id)).map((i) => i.result);

describe('one history item per outcome', () => {
  it('records created, updated (with the changed field names only) and unchanged, newest first', async () => {
    const p = await pipeline();
    p.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await p.settle();
    p.dt.updateUser('zhangsan', { title: '架构师' });
    await p.settle();
    p.dt.pushEvent('user_modify_org', { userIds: ['zhangsan'] });
    await p.settle();

    const items = await p.history.history('user', 'zhangsan');
    expect(items.map((i) => [i.result, i.changedFields])).toEqual([
      ['unchanged', []],
      ['updated', ['position']],
      ['created', expect.arrayContaining(['department', 'email', 'mobile', 'name', 'position'])],
    ]);
    expect(items[1]!.trigger).toEqual({ source: 'push', eventType: 'user_modify_org', eventTime: expect.any(String) });
    // Names, never values: nothing of the person is in the history.
    const text = JSON.stringify(items);
    for (const value of ['张三', '架构师', '13800000001', 'zhangsan@example.com']) expect(text).not.toContain(value);
  });

  it('records the departments a user’s sync created on the way, under the user’s correlation id', async () => {
    const p = await pipeline();
    p.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await p.settle();
    const [user] = await p.history.history('user', 'zhangsan');
    for (const dept of ['2', '3']) {
      expect(await p.history.history('dept', dept)).toEqual([
        { at: user!.at, trigger: user!.trigger, correlationId: user!.correlationId, result: 'created', changedFields: ['id', 'name', 'order', 'parentid'] },
      ]);
    }
  });

  it('records a leaver as disabled', async () => {
    const p = await pipeline();
    p.dt.pushEvent('user_add_org', { userIds: ['wangwu'] });
    await p.settle();
    p.dt.removeUser('wangwu');
    await p.settle();
    const [left] = await p.history.history('user', 'wangwu');
    expect(left).toMatchObject({ result: 'disabled', trigger: { eventType: 'user_leave_org' } });
    expect(left!.changedFields).toContain('enable');
  });

  it('records a permanent failure with WeCom’s errcode, and a retry before a success', async () => {
    const p = await pipeline();
    p.dt.addUser({ userid: 'twin', name: '双胞胎', mobile: '13800000001', state_code: '86', dept_id_list: [4] }, { push: false });
    p.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await p.settle();
    p.dt.pushEvent('user_add_org', { userIds: ['twin'] });
    await p.settle();
    expect(await p.history.history('user', 'twin')).toEqual([expect.objectContaining({ result: 'failed', errcode: 60104, changedFields: [] })]);

    // A throttle (45009) is waited out within the invocation, then WeCom is busy (-1): that retries.
    p.wc.failNext('user/create', 45009);
    p.wc.failNext('user/create', -1);
    p.dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await p.settle();
    const lisi = await p.history.history('user', 'lisi');
    expect(lisi.map((i) => [i.result, i.errcode])).toEqual([
      ['created', undefined],
      ['retry', -1],
    ]);
    expect(lisi[0]!.correlationId).toBe(lisi[1]!.correlationId);
    expect(p.metrics.sum('Throttles', { Platform: 'wecom' })).toBe(1);
    expect(p.metrics.sum('SyncResults', { Result: 'retry' })).toBe(1);
  });

  it('records what the sync may not touch as skipped', async () => {
    const p = await pipeline({ SYNC_ROOT_DEPT_IDS: '4' });
    p.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await p.settle();
    expect(await results(p, 'user', 'zhangsan')).toEqual(['skipped']);
  });

  it('records the reconcile’s writes under its run id', async () => {
    const p = await pipeline();
    const { report } = await runReconcile({
      dingtalk: p.dingtalk,
      wecom: p.wecom,
      store: p.store,
      sync: p.sync,
      queue: p.queue,
      config: { rootDeptIds: [1], excludeDeptIds: [], onLeave: 'disable', toInvite: false, maxDeleteRatio: 1 },
    });
    const [item] = await p.history.history('user', 'lisi');
    expect(item).toMatchObject({ result: 'created', correlationId: report.runId, trigger: { source: 'reconcile', runId: report.runId } });
  });
});

describe('one trail per change', () => {
  it('carries the push’s correlation id from the callback through the worker’s decisions to the WeCom write and the history', async () => {
    const p = await pipeline();
    p.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await p.settle();
    const accepted = p.logger.entries.find((e) => e.message === 'callback accepted')!;
    const correlationId = accepted.correlationId as string;
    expect(correlationId).toMatch(/^[0-9a-f]{24}$/);
    const trail = p.logger.entries.filter((e) => e.correlationId === correlationId).map((e) => [e.message, e.entity, e.api ?? e.result, e.wecomId]);
    // Departments created on the user's way are written within the user's sync (its entity), then
    // recorded as outcomes of their own.
    expect(trail).toEqual(
      expect.arrayContaining([
        ['callback accepted', undefined, undefined, undefined],
        ['wecom write', 'user:zhangsan', 'department/create', '2'],
        ['wecom write', 'user:zhangsan', 'department/create', '3'],
        ['wecom write', 'user:zhangsan', 'user/create', 'zhangsan'],
        ['sync outcome', 'user:zhangsan', 'created', undefined],
        ['sync outcome', 'dept:2', 'created', undefined],
        ['sync outcome', 'dept:3', 'created', undefined],
      ]),
    );
    // Every line of the worker's part names the trigger, and no line is left without the id.
    for (const e of p.logger.entries.filter((x) => x.entity !== undefined)) expect(e.correlationId).toBe(correlationId);
    const outcome = p.logger.entries.find((e) => e.message === 'sync outcome' && e.entity === 'user:zhangsan')!;
    expect(outcome.trigger).toEqual({ source: 'push', eventType: 'user_add_org', eventTime: accepted.eventTime });
    expect((await p.history.history('user', 'zhangsan'))[0]!.correlationId).toBe(correlationId);
    // Propagation: DingTalk's event time to the WeCom write, for the written entity only.
    expect(p.metrics.values('PropagationLatency')).toHaveLength(1);
    expect(outcome.propagationMs).toBe(p.metrics.values('PropagationLatency')[0]);
  });
});

describe('a history that cannot be written', () => {
  it('logs the item in its place and does not fail the sync', async () => {
    const p = await pipeline();
    const logger = createMemoryLogger();
    const broken: HistoryStore = {
      append: async () => {
        throw new Error('table is gone');
      },
      history: async () => [],
    };
    const sync = new EntitySync({ dingtalk: p.dingtalk, wecom: p.wecom, store: p.store, config: defaults, logger, history: broken });
    expect((await sync.syncUser('wangwu')).result).toBe('created');
    expect(logger.entries.find((e) => e.level === 'error')).toMatchObject({
      message: 'could not keep a history item; this line stands for it',
      entity: 'user:wangwu',
      result: 'created',
      error: 'Error: table is gone',
    });
  });
});

const defaults = { onLeave: 'disable' as const, rootDeptIds: [1], excludeDeptIds: [], toInvite: false };
