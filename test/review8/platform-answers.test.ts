/**
 * Review 8, DingTalk's answers: an answer that lacks a field DingTalk always sends must be a
 * retryable protocol error (issue 8, item 12, "the DingTalk side likewise"), never a reason to
 * disable a person or delete a department. A gateway between the worker and the DingTalk
 * simulator gives the answers. Each test fails on main.
 */
import { describe, expect, it } from 'vitest';
import type { EntitySync } from '../../lib/sync/entity';
import { rigLifecycle } from '../correctness/rig';

const rigs = rigLifecycle();

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

describe('DingTalk answers without a documented field, review 8', () => {
  // Severity: high (destructive). answers.ts reads an absent dept_id_list as [], so the person is
  // "in no department", i.e. outside the scope, and SYNC_ON_LEAVE disables them.
  it('user/get without dept_id_list: the person is not disabled (the message is retried)', async () => {
    const { gw, r, sync } = await rigBehindGateway();
    gw.rules.push({ api: 'topapi/v2/user/get', rewrite: without('dept_id_list'), times: 1 });
    await sync.handle(message(r.dt.corpId, 'user', 'zhangsan')).catch(() => undefined);
    expect(r.wc.getUser('zhangsan')?.enable).toBe(1); // fails: 0
    expect((await r.store.get('user', 'zhangsan'))?.status).toBe('synced'); // fails: 'disabled'
  });

  // Severity: high (destructive). An absent parent_id makes a department "outside" the scope: it
  // is emptied (its members re-judged on that same cached read, so disabled) and deleted.
  it('department/get without parent_id: the department is not deleted and its member not disabled', async () => {
    const { gw, r, sync } = await rigBehindGateway();
    gw.rules.push({ api: 'topapi/v2/department/get', rewrite: without('parent_id'), times: 1 });
    await sync.handle(message(r.dt.corpId, 'dept', '3')).catch(() => undefined);
    expect(r.wc.getDept(3)).toBeDefined(); // fails: deleted
    expect(r.wc.getUser('zhangsan')?.enable).toBe(1); // fails: 0
  });

  // Severity: low-medium. The scan follows user/list's next_cursor without noticing it repeats
  // (the WeCom list_id reader does guard against this): the reconcile spins until the Lambda's
  // 15-minute timeout, holding the reconcile lock, and saves no report.
  it('user/list whose next_cursor never advances: the reconcile ends (failed) instead of looping', async () => {
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
    const outcome = await Promise.race([run.then((x) => x.report.status), new Promise((done) => setTimeout(() => done('still running after 8 s'), 8_000))]);
    gw.rules.length = 0; // let the loop end so the rig can close
    await run.catch(() => undefined);
    expect(outcome).toBe('failed'); // fails: 'still running after 8 s'
  }, 60_000);
});
