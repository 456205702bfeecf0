/**
 * Found by an adversarial review of sendingWaitingReports (lib/sync/waiting-reports.ts), each
 * failing when written: a manager made able to lead by a sync nested inside another entity's (the
 * people waiting for a holder's contact details, or for a department) had no reports sent; nor
 * had one whose attempt saved them and then threw (the retry finds them leading already). Every
 * user who becomes able to lead while a message is handled is now noted at the save
 * (lib/sync/new-leaders.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type SandboxPipeline, startSandboxPipeline } from '../../lib/sandbox/pipeline';
import { missFirstRead } from '../support/store-view';

let p: SandboxPipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe('a manager made able to lead by a sync nested in another change', () => {
  it('sends the people waiting for them when the manager is created by retryWaiters (the contact holder left)', async () => {
    p = await startSandboxPipeline();
    const { dt, wc, store, settle } = p;
    // holder: an enabled member the sync owns, with lisi's mobile.
    dt.addUser({ userid: 'holder', name: '持有人', mobile: '13800000002', state_code: '86', dept_id_list: [4] });
    await settle();
    expect(wc.getUser('holder')?.enable).not.toBe(0);
    // zhangsan waits for lisi; lisi cannot be created while holder keeps the mobile.
    await dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    await dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await settle();
    expect(await store.get('user', 'lisi')).toMatchObject({ status: 'failed' });
    expect(await store.get('user', 'holder')).toMatchObject({ contactWaiters: ['lisi'] });
    expect(await store.awaitingLeader('lisi')).toEqual(['zhangsan']);

    // holder leaves: their sync disables them and writes lisi again (created, can lead now).
    dt.removeUser('holder');
    await settle();
    expect(await store.get('user', 'lisi')).toMatchObject({ status: 'synced' });
    expect(wc.getUser('lisi')).toBeDefined();
    // …but zhangsan was never sent: her line waits for the next reconcile.
    expect(wc.getUser('zhangsan')?.direct_leader).toEqual(['lisi']);
    expect(await store.awaitingLeader('lisi')).toEqual([]);
  });
});

describe('a manager the race guard writes twice (zhangsan reads lisi just before lisi’s save, then sees lisi lead)', () => {
  it.each([
    ['both writes go through', false],
    ['the second is answered -1 (busy) and the message retried: the retry finds zhangsan synced and notes nobody', true],
  ])('the people waiting for zhangsan are sent: %s', async (_case, busy) => {
    p = await startSandboxPipeline();
    const { dt, wc, store, settle } = p;
    // xiao waits for zhangsan, who is not in WeCom yet.
    dt.addUser({ userid: 'xiao', name: '小明', mobile: '13800000009', state_code: '86', dept_id_list: [4], manager_userid: 'zhangsan' });
    await settle();
    expect(await store.awaitingLeader('zhangsan')).toEqual(['xiao']);
    await dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await settle();
    const missed = missFirstRead(store, 'user', 'lisi');
    if (busy) wc.failNext('user/update', -1);
    await dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await settle();
    expect(missed()).toBe(true);
    expect(wc.getUser('zhangsan')?.direct_leader).toEqual(['lisi']);
    expect(wc.getUser('xiao')?.direct_leader).toEqual(['zhangsan']);
  });
});
