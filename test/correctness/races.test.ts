/**
 * Races between the reconcile and the worker. Writes to one entity are serialized across both;
 * a write that loses the race is re-done from a fresh DingTalk read, so WeCom ends up matching
 * DingTalk's latest state, never a stale payload.
 *
 * The race is made deterministic with a WeCom client wrapper: the reconcile's `user/update` for
 * one person is held while the worker processes a newer event for that person (one worker
 * attempt, as one Lambda invocation would), then sent on.
 */
import { describe, expect, it } from 'vitest';
import { runOneBatch } from '../../lib/local/worker-loop';
import type { WeComDirectory } from '../../lib/ports';
import { opsOf, type Rig, rigLifecycle } from './rig';

const rigs = rigLifecycle();

/** `wecom`, except that the first `user/update` for `userid` runs `meanwhile` before it is sent. */
function holdingUpdate(wecom: WeComDirectory, userid: string, meanwhile: () => Promise<void>): WeComDirectory {
  let held = false;
  return {
    createDept: (p) => wecom.createDept(p),
    updateDept: (p) => wecom.updateDept(p),
    deleteDept: (id) => wecom.deleteDept(id),
    listDepts: (root) => wecom.listDepts(root),
    createUser: (p) => wecom.createUser(p),
    updateUser: async (p) => {
      if (!held && p.userid === userid) {
        held = true;
        await meanwhile();
      }
      return wecom.updateUser(p);
    },
    deleteUser: (id) => wecom.deleteUser(id),
    listUserDepts: () => wecom.listUserDepts(),
  };
}

/** One worker attempt on whatever the DingTalk pushes put on the queue. */
async function oneWorkerAttempt(r: Rig): Promise<void> {
  await r.dt.idle();
  await runOneBatch(r.queue, r.process);
}

describe('a reconcile write racing a worker write', () => {
  it('does not leave a stale title: WeCom ends with the newest title and a later reconcile plans nothing', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi', 'zhangsan'] });
    await r.settle();
    r.dt.updateUser('zhangsan', { title: 'B' }, { push: false }); // what the reconcile will read

    const wecom = holdingUpdate(r.wecom, 'zhangsan', async () => {
      r.dt.updateUser('zhangsan', { title: 'C' }); // newer, and the worker handles it at once
      await oneWorkerAttempt(r);
    });
    await r.reconcile({}, { wecom });
    await r.settle();

    expect(r.wc.getUser('zhangsan')?.position).toBe('C');
    const again = await r.reconcile();
    expect(opsOf(again)).toEqual([]);
    expect(r.wc.getUser('zhangsan')?.position).toBe('C');
  });

  it('does not write the scan over a worker write that landed after the scan: WeCom keeps the newer title', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi', 'zhangsan'] });
    await r.settle();
    r.dt.updateUser('zhangsan', { title: 'B' }, { push: false }); // what the reconcile's scan will read

    // Between the scan and the plan, the worker writes a newer title.
    const list = r.store.list.bind(r.store);
    let raced = false;
    r.store.list = async (kind) => {
      if (kind === 'user' && !raced) {
        raced = true;
        r.dt.updateUser('zhangsan', { title: 'C' });
        await oneWorkerAttempt(r);
      }
      return list(kind);
    };
    await r.reconcile();
    await r.settle();

    expect(r.wc.getUser('zhangsan')?.position).toBe('C');
  });

  it('never re-enables a leaver: the person who left while the reconcile was writing stays disabled for good', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('user_add_org', { userIds: ['lisi', 'zhangsan'] });
    await r.settle();
    r.dt.updateUser('zhangsan', { title: 'B' }, { push: false }); // so the reconcile writes zhangsan

    const wecom = holdingUpdate(r.wecom, 'zhangsan', async () => {
      r.dt.removeUser('zhangsan');
      await oneWorkerAttempt(r);
    });
    await r.reconcile({}, { wecom });
    await r.settle();

    expect(r.wc.getUser('zhangsan')?.enable).toBe(0);
    expect(await r.store.get('user', 'zhangsan')).toMatchObject({ status: 'disabled' });
    await r.reconcile();
    expect(r.wc.getUser('zhangsan')?.enable).toBe(0);
  });
});
