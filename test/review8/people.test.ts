/**
 * Review 8, rehires: the contact release only looks at leavers already disabled, so a rehire
 * whose leaver is disabled a moment later waits for a reconcile. Each test fails on main.
 */
import { describe, expect, it } from 'vitest';
import { rigLifecycle } from '../correctness/rig';

const rigs = rigLifecycle();

describe('rehires, review 8', () => {
  // Severity: low. A reconcile after an outage sees the leaver and the rehire together: the
  // rehire's create (planned with releaseFrom [] because the leaver is still enabled at plan time,
  // and the empty list stops the store search) gets 60106 before the same run disables the
  // leaver. The run ends partial; only the next run creates the rehire.
  it('a leaver and the rehire who takes their email, in one reconcile: the rehire is created in that run', async () => {
    const r = await rigs.start();
    await r.reconcile();
    r.dt.pushEnabled = false;
    r.dt.removeUser('wangwu');
    r.dt.addUser({ userid: 'wangwu2', name: '王五', org_email: 'wangwu@example.com', dept_id_list: [4] });

    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]); // fails: 60106 on create_user wangwu2
    expect(r.wc.getUser('wangwu2')).toMatchObject({ enable: 1, email: 'wangwu@example.com' });
  });

  // Severity: low. SQS FIFO runs the two groups in any order. When the rehire's event is handled
  // first it fails 60106 for good (recorded with its hash); the leaver's disable then frees
  // nothing for it, so the rehire has no account until the daily reconcile.
  it('the rehire’s event handled before the leaver’s: the rehire is created from the event flow', async () => {
    const r = await rigs.start();
    await r.dt.pushEvent('user_add_org', { userIds: ['wangwu'] });
    await r.settle();
    r.dt.addUser({ userid: 'wangwu2', name: '王五', org_email: 'wangwu@example.com', dept_id_list: [4] });
    await r.settle();
    r.dt.removeUser('wangwu');
    await r.settle();
    expect(r.wc.getUser('wangwu')?.enable).toBe(0);
    expect(r.wc.getUser('wangwu2')).toMatchObject({ enable: 1, email: 'wangwu@example.com' }); // fails: undefined
  });
});
