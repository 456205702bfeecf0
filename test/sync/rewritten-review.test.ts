/**
 * Pinned by a review: the race guard's second write (user-sync.ts applyUser, outcome.ts rewritten)
 * when WeCom refuses it for good. The first write created the person; the second, adding the
 * manager, failed: the message's outcome must say `failed` (with the errcode), not `created`,
 * or the failure is hidden from the outcome log, history and metrics while the record is failed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { composeLocalService } from '../../lib/compose/local';
import { runOneBatch } from '../../lib/local/worker-loop';
import { createMemoryLogger } from '../../lib/log';
import type { DingTalkUser } from '../../lib/ports';
import { type SandboxPipeline, startSandboxPipeline } from '../../lib/sandbox/pipeline';
import { EntitySync } from '../../lib/sync/entity';
import { WECOM_ERR } from '../../lib/wecom/errors';
import { missFirstRead, viewOf } from '../support/store-view';

let p: SandboxPipeline | undefined;
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
  await close?.();
  close = undefined;
});

describe('the race guard’s second write refused for good', () => {
  it('the outcome is the failure, not the first write’s create', async () => {
    p = await startSandboxPipeline();
    const { dt, wc, store, settle, queue, process } = p;
    await dt.pushEvent('user_add_org', { userIds: ['lisi'] });
    await settle();
    // zhangsan's first write reads lisi as unable to lead (lisi's save not seen yet): created
    // without the line; the race guard then sees lisi lead and updates her, which WeCom refuses.
    const missed = missFirstRead(store, 'user', 'lisi');
    wc.failNext('user/update', WECOM_ERR.invalidParam);
    await dt.pushEvent('user_add_org', { userIds: ['zhangsan'] });
    await dt.idle();
    const batch = await runOneBatch(queue, process);
    expect(missed()).toBe(true);
    expect(wc.getUser('zhangsan')).toBeDefined(); // the first write's create went through
    expect((await store.get('user', 'zhangsan'))?.status).toBe('failed');
    expect(batch?.outcomes).toEqual([expect.objectContaining({ id: 'zhangsan', result: 'failed', errcode: WECOM_ERR.invalidParam })]);
  });
});

describe('the race guard under the reconcile’s ifVersion', () => {
  it('the second write is not refused as “written since read” by the version the first write saved', async () => {
    const service = await composeLocalService(
      {},
      { sandbox: true, simulators: { dingtalk: { retryDelaysMs: [] }, wecom: { rateLimitPerMinute: null } }, logger: createMemoryLogger() },
    );
    close = service.close;
    const { dingtalk, wecom, sync, config, store } = service;
    const dt = service.sims!.dingtalk;
    const wc = service.sims!.wecom;
    dt.addUser({ userid: 'boss', name: 'Boss', mobile: '13800009999', dept_id_list: [2] }, { push: false });
    dt.addUser({ userid: 'rep', name: 'Rep', mobile: '13800009998', dept_id_list: [2], manager_userid: 'boss' }, { push: false });
    // The reconcile read rep (no record: ifVersion 0); another worker creates boss just before
    // rep's save that leaves boss out.
    let created = false;
    const view = viewOf(store, {
      put: async (state, opts) => {
        if (!created && state.id === 'rep' && state.leaderWithheld === 'boss') {
          created = true;
          expect(await sync.syncUser('boss')).toMatchObject({ result: 'created' });
        }
        return store.put(state, opts);
      },
    });
    const reconcileSync = new EntitySync({ dingtalk, wecom, store: view, config });
    const rep = dt.getUser('rep') as DingTalkUser;
    const outcome = await reconcileSync.applyUser(rep, { ifVersion: 0 });
    expect(created).toBe(true);
    expect(outcome).toMatchObject({ id: 'rep', result: 'created' });
    expect(wc.getUser('rep')?.direct_leader).toEqual(['boss']);
    expect((await store.get('user', 'rep'))?.leaderWithheld).toBeUndefined();
  });
});
