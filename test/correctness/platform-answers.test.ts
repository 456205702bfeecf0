/**
 * The platforms' answers: only an answer of the documented shape counts. The WeCom simulator's
 * fault hooks give the answers a proxy could give (an empty 200, a body without the id); the
 * DingTalk simulator answers `user/list` with DingTalk's list items, which name no manager; a
 * gateway between the service and a simulator takes out what DingTalk always sends.
 */
import { describe, expect, it } from 'vitest';
import { ERRCODE_PROTOCOL } from '../../lib/errors';
import { runOneBatch } from '../../lib/local/worker-loop';
import type { EntitySync } from '../../lib/sync/entity';
import { opsOf, rigLifecycle } from './rig';

const rigs = rigLifecycle();

describe('an answer without the documented shape', () => {
  it.each([['{}'], ['{"errmsg":"ok"}'], ['null'], ['[]']])(
    'HTTP 200 with %s for user/create is a retryable protocol error: nothing is saved as synced, and the retry creates the user',
    async (body) => {
      const r = await rigs.start();
      await r.dt.pushEvent('org_dept_create', { deptIds: [2, 3] });
      await r.settle();
      r.wc.answerNext('user/create', body);

      await r.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
      const first = await runOneBatch(r.queue, r.process);
      expect(first?.response.batchItemFailures).toHaveLength(1);
      expect((await r.store.get('user', 'zhangsan'))?.status).not.toBe('synced');

      await r.settle();
      expect(r.wc.getUser('zhangsan')).toMatchObject({ enable: 1, department: [3] });
      expect(await r.store.get('user', 'zhangsan')).toMatchObject({ status: 'synced', owned: true });
    },
  );

  it('department/create answered without an id, when WeCom chose the id: the department exists once, is recorded with its WeCom id, and holds its member', async () => {
    const r = await rigs.start();
    const big = 3_000_000_000; // beyond the ids the sync asks WeCom for: WeCom assigns one
    r.wc.seedDept({ id: 5000, name: '手工部门', parentid: 1 }); // so the id WeCom assigns is no DingTalk id
    r.dt.addDept({ dept_id: big, name: '大号部门', parent_id: 1 }, { push: false });
    r.dt.addUser({ userid: 'zhouba', name: '周八', mobile: '13800000008', dept_id_list: [big] }, { push: false });
    r.wc.rewriteNext('department/create', ({ id: _lost, ...answer }) => answer);

    await r.dt.pushEvent('user_add_org', { userIds: ['zhouba'] });
    await r.settle();
    await r.reconcile();
    const named = r.wc.listDepts().filter((d) => d.name === '大号部门');
    expect(named).toHaveLength(1);
    expect((await r.store.get('dept', String(big)))?.wecomId).toBe(String(named[0]!.id));
    expect(r.wc.getUser('zhouba')?.department).toEqual([named[0]!.id]);
  });

  it('department/create answered without an id, for an id the sync asked for: that id is recorded', async () => {
    const r = await rigs.start();
    r.wc.rewriteNext('department/create', ({ id: _lost, ...answer }) => answer);
    await r.dt.pushEvent('org_dept_create', { deptIds: [4] });
    await r.settle();
    expect(r.wc.getDept(4)?.name).toBe('市场部');
    expect(await r.store.get('dept', '4')).toMatchObject({ status: 'synced', wecomId: '4' });
  });
});

describe('DingTalk listings are not user/get records', () => {
  it('the reconcile never compares or writes a field the listing lacks: reporting lines set from events stay, and nothing is planned', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await r.settle();
    await r.dt.pushEvent('user_add_org', { userIds: ['zhangsan', 'wangwu'] });
    await r.settle();
    expect(r.wc.getUser('zhangsan')?.direct_leader).toEqual(['lisi']);

    // Three people, seven runs to a sweep: one person re-read in full per run, the others only listed.
    for (let run = 1; run <= 3; run++) {
      const result = await r.reconcile();
      expect(opsOf(result)).toEqual([]);
      expect(result.report.counts).toMatchObject({ detail_swept: 1 });
      expect(r.wc.getUser('zhangsan')?.direct_leader).toEqual(['lisi']);
    }
  });
});

describe('DingTalk answers without a field DingTalk always sends', () => {
  const message = (corpId: string, kind: 'user' | 'dept', id: string) => ({ kind, id, eventType: 'user_modify_org', eventTime: Date.now(), corpId });

  /** Removes one field from an answer's `result`. */
  const without = (field: string) => (text: string) => {
    const answer = JSON.parse(text) as { result?: Record<string, unknown> };
    if (answer.result) delete answer.result[field];
    return JSON.stringify(answer);
  };

  async function rigBehindGateway() {
    const gw = await rigs.gateway('');
    const r = await rigs.start();
    gw.target = new URL(r.dt.url).origin;
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi', 'zhangsan'] });
    await r.settle();
    return { gw, r, sync: r.deps({ env: { DINGTALK_API_BASE: gw.origin } }).sync as EntitySync };
  }

  it('user/get without dept_id_list is a retryable protocol error: the person is not disabled', async () => {
    const { gw, r, sync } = await rigBehindGateway();
    gw.rules.push({ api: 'topapi/v2/user/get', rewrite: without('dept_id_list'), times: 1 });
    await expect(sync.handle(message(r.dt.corpId, 'user', 'zhangsan'))).rejects.toMatchObject({ errcode: ERRCODE_PROTOCOL, failure: 'retryable' });
    expect(r.wc.getUser('zhangsan')?.enable).toBe(1);
    expect((await r.store.get('user', 'zhangsan'))?.status).toBe('synced');
  });

  it('department/get without parent_id is a retryable protocol error: the department is not deleted, its member not disabled', async () => {
    const { gw, r, sync } = await rigBehindGateway();
    gw.rules.push({ api: 'topapi/v2/department/get', rewrite: without('parent_id'), times: 1 });
    await expect(sync.handle(message(r.dt.corpId, 'dept', '3'))).rejects.toMatchObject({ errcode: ERRCODE_PROTOCOL, failure: 'retryable' });
    expect(r.wc.getDept(3)).toBeDefined();
    expect(r.wc.getUser('zhangsan')?.enable).toBe(1);
  });

  // Without a guard the scan would follow the cursor until the Lambda's 15-minute timeout,
  // holding the reconcile lock, and save no report.
  it('user/list whose next_cursor never advances: the reconcile ends, failed, instead of looping', async () => {
    const gw = await rigs.gateway('');
    const r = await rigs.start();
    gw.target = new URL(r.dt.url).origin;
    gw.rules.push({
      api: 'topapi/v2/user/list',
      rewrite: (text) => {
        const answer = JSON.parse(text) as { result: Record<string, unknown> };
        answer.result.has_more = true;
        answer.result.next_cursor = 0;
        return JSON.stringify(answer);
      },
    });
    const run = r.reconcile({}, { env: { DINGTALK_API_BASE: gw.origin } });
    const outcome = await Promise.race([run.then((x) => x.report), new Promise((done) => setTimeout(() => done('still running after 8 s'), 8_000))]);
    gw.rules.length = 0; // let a loop end so the rig can close
    await run.catch(() => undefined);
    expect(outcome).toMatchObject({ status: 'failed', message: expect.stringMatching(/next_cursor 0 of department \d+ was already followed/) });
  }, 60_000);
});

describe('the failed-push sweep', () => {
  it('loses no page when the enqueue after reading it fails: the next run enqueues it', async () => {
    const r = await rigs.start();
    await r.reconcile();
    for (const id of ['u0', 'u1', 'u2']) r.dt.recordFailedPush('user_modify_org', { userIds: [id] });
    r.queue.rejectNextEnqueues = 1;
    await r.reconcile();

    await r.reconcile();
    const groups = r.queue.receive(10).map((m) => m.groupId);
    expect(groups).toEqual(expect.arrayContaining(['user:u0', 'user:u1', 'user:u2']));
  });
});
