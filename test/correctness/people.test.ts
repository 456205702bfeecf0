/**
 * People: a rehire is never locked out by their own disabled account, whatever order the leaver
 * and the rehire are seen in, and every plan converges: after one run, nothing is planned for a
 * person whose WeCom side already matches.
 */
import { describe, expect, it } from 'vitest';
import { opsOf, type Rig, rigLifecycle } from './rig';

const rigs = rigLifecycle();

/** zhangsan synced, then gone from DingTalk: disabled in WeCom, still holding mobile and email. */
async function disabledLeaver(r: Rig): Promise<void> {
  await r.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
  await r.settle();
  r.dt.removeUser('zhangsan');
  await r.settle();
  expect(r.wc.getUser('zhangsan')).toMatchObject({ enable: 0, mobile: '+86 13800000001', email: 'zhangsan@example.com' });
}

const rehire = { userid: 'zhangsan2', name: '张三', mobile: '13800000001', state_code: '86', email: 'zhangsan@example.com', dept_id_list: [3] };

describe('a rehire with a new DingTalk userid', () => {
  it('gets the mobile and email that the disabled leaver owned by the sync gives up, and the leaver’s state records it', async () => {
    const r = await rigs.start();
    await disabledLeaver(r);

    r.dt.addUser(rehire);
    await r.settle();
    expect(r.wc.getUser('zhangsan2')).toMatchObject({ enable: 1, mobile: '+86 13800000001', email: 'zhangsan@example.com' });
    expect(await r.store.get('user', 'zhangsan2')).toMatchObject({ status: 'synced' });
    const leaver = r.wc.getUser('zhangsan');
    expect(leaver?.enable).toBe(0);
    expect(leaver?.mobile).not.toBe('+86 13800000001');
    expect(leaver?.email).not.toBe('zhangsan@example.com');
    expect(JSON.stringify(await r.store.get('user', 'zhangsan'))).toMatch(/zhangsan2/);
  });

  it('a reconcile creates the rehire in one run, names the leaver that gave up its contact details in the report, and then plans nothing', async () => {
    const r = await rigs.start();
    await disabledLeaver(r);
    r.dt.pushEnabled = false;
    r.dt.addUser(rehire);

    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(r.wc.getUser('zhangsan2')).toMatchObject({ enable: 1, mobile: '+86 13800000001', email: 'zhangsan@example.com' });
    expect(JSON.stringify(run.report)).toMatch(/\bzhangsan\b/);
    expect(opsOf(await r.reconcile())).toEqual([]);
  });

  // A reconcile after an outage sees the leaver and the rehire together: the leaver is disabled
  // before anyone is written, and counted among those who may give up their contact details.
  it('a leaver and the rehire who takes their email, in one reconcile: the rehire is created in that run', async () => {
    const r = await rigs.start();
    await r.reconcile();
    r.dt.pushEnabled = false;
    r.dt.removeUser('wangwu');
    r.dt.addUser({ userid: 'wangwu2', name: '王五', org_email: 'wangwu@example.com', dept_id_list: [4] });

    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(r.wc.getUser('wangwu2')).toMatchObject({ enable: 1, email: 'wangwu@example.com' });
    expect(r.wc.getUser('wangwu')?.enable).toBe(0);
  });

  // SQS FIFO runs the two groups in any order. The rehire's event, handled first, fails for good
  // (the leaver is still enabled) and is remembered on the leaver, whose disabling writes it again.
  it('the rehire’s event handled before the leaver’s: the rehire is created from the event flow', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('user_add_org', { userIds: ['wangwu'] });
    await r.settle();
    r.dt.addUser({ userid: 'wangwu2', name: '王五', org_email: 'wangwu@example.com', dept_id_list: [4] });
    await r.settle();
    expect(await r.store.get('user', 'wangwu')).toMatchObject({ status: 'synced', contactWaiters: ['wangwu2'] });
    r.dt.removeUser('wangwu');
    await r.settle();
    expect(r.wc.getUser('wangwu')?.enable).toBe(0);
    expect(r.wc.getUser('wangwu2')).toMatchObject({ enable: 1, email: 'wangwu@example.com' });
    expect((await r.store.get('user', 'wangwu'))?.contactWaiters).toBeUndefined();
  });
});

describe('plans converge', () => {
  it('a report whose manager failed permanently gets nothing planned after one run', async () => {
    const r = await rigs.start();
    r.wc.seedUser({ userid: 'other', name: '别人', department: [1], mobile: '+86 13800000002' }); // lisi's mobile
    await r.reconcile();
    expect(await r.store.get('user', 'lisi')).toMatchObject({ status: 'failed', lastErrcode: 60104 });
    expect(r.wc.getUser('zhangsan')?.direct_leader).toEqual([]);

    const second = await r.reconcile();
    expect(opsOf(second).filter((op) => op.endsWith(' zhangsan'))).toEqual([]);
  });

  it('an owned user whose WeCom spelling differs in case gets nothing planned after one run', async () => {
    const r = await rigs.start();
    await r.reconcile();
    // What an earlier adoption across case left behind: the store knows "wangwu", WeCom lists "WangWu".
    r.wc.removeUserByHand('wangwu');
    r.wc.seedUser({ userid: 'WangWu', name: '王五', department: [4], email: 'wangwu@example.com', position: '市场经理' });

    await r.reconcile();
    expect(opsOf(await r.reconcile())).toEqual([]);
  });
});
