/**
 * What the convergence property (convergence.property.test.ts) found, each failure shrunk and
 * written again by hand as a small deterministic run of the pipeline: DingTalk simulator →
 * signed push → callback → queue → worker → WeCom simulator, plus the reconcile. Each test says
 * the shrunk sequence it comes from.
 */
import { describe, expect, it } from 'vitest';
import { runOneBatch } from '../../lib/local/worker-loop';
import type { FaultCall, InjectedFault } from '../../lib/sandbox/faults';
import { runReconcile } from '../../lib/sync/reconcile';
import { person, type Rig, rigLifecycle } from '../correctness/rig';

const rigs = rigLifecycle();

/** A department create WeCom numbers itself (no id sent). */
const assignedCreate = (call: FaultCall) => call.api === 'department/create' && (JSON.parse(call.body) as { id?: number }).id === undefined;
/** A department's temporary rename (`<name>~<id>`) that frees its name for a sibling. */
const temporaryRename = (call: FaultCall) => call.api === 'department/update' && call.body.includes('~');

/**
 * DingTalk creates 1010 "法务" under 1000 while WeCom's 1010 is a department of its own, so WeCom
 * numbers the copy itself; WeCom makes it and the answer is lost (one batch, its message failed).
 */
async function createWithAnswerLost(r: Rig): Promise<void> {
  const lost = faultOnce(r, assignedCreate, { kind: 'dropAfter' });
  r.dt.addDept({ dept_id: 1010, name: '法务', parent_id: 1000 });
  await r.dt.idle();
  const batch = await runOneBatch(r.queue, r.process);
  expect(batch?.response.batchItemFailures).toHaveLength(1);
  expect(lost.fired()).toBe(true);
  expect(r.wc.listDepts().filter((d) => d.name === '法务')).toMatchObject([{ parentid: 1000 }]); // created all the same
}

/** WeCom answers the first call `picks` chooses with `fault`, every other as usual; `fired` says whether that call came. */
function faultOnce(r: Pick<Rig, 'wc'>, picks: (call: FaultCall) => boolean, fault: InjectedFault): { fired(): boolean } {
  let fired = false;
  r.wc.setFaultPolicy((call) => {
    if (fired || !picks(call)) return undefined;
    fired = true;
    return fault;
  });
  return { fired: () => fired };
}

/**
 * A rig whose WeCom already holds id 1010 (inside a department of its own), so DingTalk's
 * department 1010 gets a copy WeCom numbers itself; first import done with `depts` in DingTalk.
 */
async function id1010Taken(depts: { dept_id: number; name: string; parent_id: number }[] = []): Promise<Rig> {
  const r = await rigs.start({}, { seed: false });
  const own = r.wc.seedDept({ name: '行政(WeCom)', parentid: 1 });
  r.wc.seedDept({ id: 1010, name: '临时(WeCom)', parentid: own });
  if (depts.length > 0) r.dt.seed({ depts });
  await r.reconcile();
  return r;
}

/** The WeCom id of the WeCom-only department that holds 1010 (id1010Taken). */
const wecomOnlyParent = (r: Rig) => r.wc.listDepts().find((d) => d.name === '行政(WeCom)')?.id;

/** The run reported no error, and 法务 has one WeCom copy: the one the store records, under `parentid`. */
async function expectOneCopyOf1010(r: Rig, run: Awaited<ReturnType<Rig['reconcile']>>, parentid: number): Promise<void> {
  expect(run.report.errors).toEqual([]);
  const wecomId = Number((await r.store.get('dept', '1010'))?.wecomId);
  expect(r.wc.getDept(wecomId)).toMatchObject({ name: '法务', parentid });
  expect(r.wc.listDepts().filter((d) => d.name === '法务')).toHaveLength(1);
}

/** People whose userids sort before the ones a test watches. */
const colleagues = (n: number) => Array.from({ length: n }, (_, i) => person(`c${String(i).padStart(2, '0')}`, `1370000${String(i).padStart(4, '0')}`));

/** What a reconcile's counts say it wrote: the reads it made and the failed-push sweep set aside. */
const writesIn = (counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).filter(([k]) => !['failed_push_enqueued', 'detail_swept', 'detail_read'].includes(k)));

describe('a rehire whose mobile went to a new hire while they were away', () => {
  // Shrunk: p001 leaves; p009 joins with p001's old mobile; p001 comes back with a new mobile.
  it('comes back without the placeholder address the sync gave them as a leaver', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1 }], users: [person('p001', '13900000001')] });
    await r.reconcile();

    r.dt.removeUser('p001');
    await r.settle();
    r.dt.addUser(person('p009', '13900000001'));
    await r.settle();
    expect(r.wc.getUser('p001')).toMatchObject({ enable: 0, email: 'p001@leavers.invalid' });
    expect(r.wc.getUser('p001')?.mobile).toBeUndefined();

    r.dt.addUser(person('p001', '13900000010'));
    await r.settle();
    expect(r.wc.getUser('p001')).toMatchObject({ enable: 1, mobile: '+86 13900000010', department: [2] });
    expect(r.wc.getUser('p001')?.email).toBeUndefined();

    // Converged: nothing left for the reconcile or a repeated event to write.
    const writes = () => (r.wc.calls['user/update'] ?? 0) + (r.wc.calls['user/create'] ?? 0);
    const before = writes();
    expect(writesIn((await r.reconcile()).report.counts)).toEqual({});
    r.dt.updateUser('p001', {});
    await r.settle();
    expect(writes()).toBe(before);
  });
});

describe('a rehire whose first re-enabling write was lost on the way', () => {
  // Shrunk from soak seed 31337: p004 leaves; p021 takes p004's mobile (p004 keeps the
  // placeholder); p004 comes back, and the first write fails before WeCom acts (a lost
  // connection): the retry must still clear the placeholder.
  it('comes back without the placeholder address all the same', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1 }], users: [person('p004', '13900000004')] });
    await r.reconcile();
    r.dt.removeUser('p004');
    await r.settle();
    r.dt.addUser(person('p021', '13900000004'));
    await r.settle();
    expect(r.wc.getUser('p004')?.email).toBe('p004@leavers.invalid');

    r.wc.dropNext('user/update');
    r.dt.addUser(person('p004', '13900000010'));
    await r.settle();
    expect(r.wc.getUser('p004')).toMatchObject({ enable: 1, mobile: '+86 13900000010' });
    expect(r.wc.getUser('p004')?.email).toBeUndefined();
  });
});

describe('a new hire given the mobile of someone whose departure was never delivered', () => {
  // Shrunk: p024 leaves (push lost); p036 joins with p024's mobile; the reconcile runs.
  it('is created by the one reconcile that disables the leaver', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1 }], users: [person('p024', '13900000031')] });
    await r.reconcile();

    r.dt.removeUser('p024', { push: false });
    r.dt.addUser(person('p036', '13900000031'));
    await r.settle();
    expect(r.wc.getUser('p036')).toBeUndefined(); // WeCom refused: p024 still holds the mobile
    expect((await r.store.get('user', 'p036'))?.lastErrcode).toBe(60104);

    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(r.wc.getUser('p024')).toMatchObject({ enable: 0, department: [1] });
    expect(r.wc.getUser('p024')?.mobile).toBeUndefined();
    expect(r.wc.getUser('p036')).toMatchObject({ enable: 1, mobile: '+86 13900000031', department: [2] });
  });
});

describe('a department whose DingTalk id WeCom had already given to another department', () => {
  // Shrunk: WeCom has a department 1010 of its own; DingTalk creates 1010 (WeCom assigns it
  // 1011), then 1011 under the same parent.
  it('gets its own WeCom department instead of taking over the one the sync made for the other', async () => {
    const r = await id1010Taken();

    r.dt.addDept({ dept_id: 1010, name: '研发', parent_id: 1 });
    await r.settle();
    const first = Number((await r.store.get('dept', '1010'))?.wecomId);
    expect(first).not.toBe(1010);
    expect(r.wc.getDept(first)).toMatchObject({ name: '研发', parentid: 1 });

    r.dt.addDept({ dept_id: first, name: '市场', parent_id: 1 });
    await r.settle();
    const second = Number((await r.store.get('dept', String(first)))?.wecomId);
    expect(second).not.toBe(first);
    expect(r.wc.getDept(first)).toMatchObject({ name: '研发', parentid: 1 });
    expect(r.wc.getDept(second)).toMatchObject({ name: '市场', parentid: 1 });
    expect(r.wc.getDept(1010)).toMatchObject({ name: '临时(WeCom)', parentid: wecomOnlyParent(r) });

    // The reconcile judges the same way: nothing to adopt, nothing to change.
    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(writesIn(run.report.counts)).toEqual({});
  });
});

describe('a manager whose own write had failed, created by the reconcile', () => {
  // Shrunk: the manager's create fails for good (here: no mobile or email yet; in the property,
  // a mobile a leaver still held, or five transient faults in a row); a report joins and is
  // written without a reporting line; the manager is fixed in DingTalk with no event delivered;
  // one reconcile runs. Known and documented in lib/sync/direct-leader.ts ("if it succeeds the
  // next run sets the report's leader"), which the convergence property does not accept: after
  // one reconcile, reporting lines must match DingTalk.
  it('is the report’s direct_leader after that one reconcile', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1 }], users: colleagues(20) });
    await r.reconcile();

    r.dt.addUser({ userid: 'mgr', name: 'MGR', dept_id_list: [2] });
    await r.settle();
    expect((await r.store.get('user', 'mgr'))?.status).toBe('failed');
    r.dt.addUser(person('rep', '13900000002', [2], { manager_userid: 'mgr' }));
    await r.settle();
    expect(r.wc.getUser('rep')?.direct_leader).toEqual([]);

    r.dt.updateUser('mgr', { mobile: '13900000001', state_code: '86' }, { push: false });
    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(r.wc.getUser('mgr')).toMatchObject({ enable: 1 });
    expect(r.wc.getUser('rep')?.direct_leader).toEqual(['mgr']);
  });
});

describe('a manager who comes back with no event delivered', () => {
  // Shrunk from the fixed seed: p005 leaves; p015 joins reporting to p005, who cannot lead while
  // disabled; p005 comes back but that push fails (listed for the failed-push sweep); one
  // reconcile re-enables p005, and p015 must report to them again in that same run.
  it('is the report’s direct_leader again after that one reconcile', async () => {
    const r = await rigs.start({}, { seed: false });
    // Colleagues enough that the detail sweep (⌈people ÷ 7⌉ a run, in userid order) reaches
    // neither of the two in these runs: the repair must not depend on it.
    r.dt.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1 }], users: [person('mgr', '13900000001'), ...colleagues(20)] });
    await r.reconcile();

    r.dt.removeUser('mgr');
    await r.settle();
    r.dt.addUser(person('rep', '13900000002', [2], { manager_userid: 'mgr' }));
    await r.settle();
    expect(r.wc.getUser('rep')?.direct_leader).toEqual([]);

    r.dt.addUser(person('mgr', '13900000003'), { push: false });
    r.dt.recordFailedPush('user_add_org', { userIds: ['mgr'] });
    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    await r.settle();
    expect(r.wc.getUser('mgr')).toMatchObject({ enable: 1 });
    expect(r.wc.getUser('rep')?.direct_leader).toEqual(['mgr']);

    // Converged: the next run writes nothing.
    expect(writesIn((await r.reconcile()).report.counts)).toEqual({});
  });
});

describe('a manager who leaves', () => {
  // Shrunk from soak seed 1: p021 reports to p045; p045 leaves (disabled in WeCom), and no event
  // tells of p021. A leaver leads no one, so after one reconcile p021 reports to nobody.
  it('is no longer their report’s direct_leader after one reconcile', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({
      depts: [{ dept_id: 2, name: '研发', parent_id: 1 }],
      users: [person('mgr', '13900000001'), person('rep', '13900000002', [2], { manager_userid: 'mgr' }), ...colleagues(20)],
    });
    await r.reconcile();
    expect(r.wc.getUser('rep')?.direct_leader).toEqual(['mgr']);

    r.dt.removeUser('mgr');
    await r.settle();
    expect(r.wc.getUser('mgr')).toMatchObject({ enable: 0 });
    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(r.wc.getUser('rep')?.direct_leader ?? []).toEqual([]);
    expect(writesIn((await r.reconcile()).report.counts)).toEqual({});
  });
});

describe('a rehire whose release answer was lost', () => {
  // Shrunk: p026 leaves; p034 joins with p026's old mobile, and WeCom applies p026's release
  // (mobile cleared, placeholder address) but its answer never arrives, so the release is not
  // recorded and p034's retry simply succeeds; p026 comes back with a new mobile.
  it('comes back without the placeholder address all the same', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1 }], users: [person('p026', '13900000029')] });
    await r.reconcile();
    r.dt.removeUser('p026');
    await r.settle();

    r.wc.dropNextAfterApplying('user/update'); // the release: applied, answer lost
    r.dt.addUser(person('p034', '13900000029'));
    await r.settle();
    expect(r.wc.getUser('p034')).toMatchObject({ enable: 1, mobile: '+86 13900000029' });
    expect(r.wc.getUser('p026')).toMatchObject({ enable: 0, email: 'p026@leavers.invalid' });

    r.dt.addUser(person('p026', '13900000041', [2]));
    await r.settle();
    expect(r.wc.getUser('p026')).toMatchObject({ enable: 1, mobile: '+86 13900000041' });
    expect(r.wc.getUser('p026')?.email).toBeUndefined();
  });
});

describe('a write WeCom applied but whose answer never came, and whose retries all failed', () => {
  /** The next write: applied in WeCom, answer lost; the 4 retries refused (-1): dead-lettered. */
  const applyThenFailFiveTimes = (r: Awaited<ReturnType<typeof rigs.start>>) => {
    r.wc.dropNextAfterApplying('user/update');
    r.wc.failNext('user/update', -1, 4);
  };

  // Shrunk: p001 leaves; p001 comes back (the re-enabling write lands in WeCom, but its answer is
  // lost and every retry fails: dead-lettered); p001 leaves again.
  it('does not keep a returning leaver enabled in WeCom when they leave again', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1 }], users: [person('p001', '13900000001')] });
    await r.reconcile();
    r.dt.removeUser('p001');
    await r.settle();

    applyThenFailFiveTimes(r);
    r.dt.addUser(person('p001', '13900000001'));
    await r.settle();
    expect(r.queue.deadLetters).toHaveLength(1);
    expect(r.wc.getUser('p001')?.enable).toBe(1); // WeCom did re-enable them

    r.dt.removeUser('p001');
    await r.settle();
    expect(r.wc.getUser('p001')).toMatchObject({ enable: 0, department: [1] });
  });

  // Shrunk from soak seed 31337: p031's mobile changes (written, answer lost, retries fail:
  // dead-lettered); p031 leaves; p072 joins with that mobile.
  it('lets the leaver who holds the mobile through it give it up to a new hire', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1 }], users: [person('p031', '13900000039')] });
    await r.reconcile();
    applyThenFailFiveTimes(r);
    r.dt.updateUser('p031', { mobile: '13900000054' });
    await r.settle();
    expect(r.wc.getUser('p031')?.mobile).toBe('+86 13900000054');
    r.dt.removeUser('p031');
    await r.settle();

    r.dt.addUser(person('p072', '13900000054'));
    await r.settle();
    expect(r.wc.getUser('p072')).toMatchObject({ enable: 1, mobile: '+86 13900000054' });
    expect(r.wc.getUser('p031')).toMatchObject({ enable: 0 });
    expect(r.wc.getUser('p031')?.mobile).toBeUndefined();
  });

  // Shrunk: p001's title changes (written, answer lost, retries fail: dead-lettered); the title
  // changes back.
  it('does not leave WeCom with the abandoned value when DingTalk goes back to what was last recorded', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1 }], users: [person('p001', '13900000001', [2], { title: '工程师' })] });
    await r.reconcile();
    r.dt.updateUser('p001', {}); // recorded as an event writes it, from user/get
    await r.settle();

    applyThenFailFiveTimes(r);
    r.dt.updateUser('p001', { title: '经理' });
    await r.settle();
    expect(r.queue.deadLetters).toHaveLength(1);
    expect(r.wc.getUser('p001')?.position).toBe('经理');

    r.dt.updateUser('p001', { title: '工程师' });
    await r.settle();
    expect(r.wc.getUser('p001')?.position).toBe('工程师');
  });
});

describe('a department created in WeCom whose answer was lost, moved in DingTalk before the retry', () => {
  // Shrunk: department 1018 is created under the root (WeCom creates it, the answer is lost);
  // it moves under 2 in DingTalk; the create is retried.
  it('is taken as the sync’s own and moved, not left behind beside a second copy', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1 }] });
    await r.reconcile();

    r.wc.dropNextAfterApplying('department/create');
    r.dt.addDept({ dept_id: 1018, name: '销售', parent_id: 1 });
    await r.dt.idle();
    const first = await runOneBatch(r.queue, r.process);
    expect(first?.response.batchItemFailures).toHaveLength(1);
    expect(r.wc.getDept(1018)).toMatchObject({ name: '销售', parentid: 1 }); // created all the same

    r.dt.updateDept(1018, { parent_id: 2 });
    await r.settle();
    expect((await r.store.get('dept', '1018'))?.wecomId).toBe('1018');
    expect(r.wc.getDept(1018)).toMatchObject({ name: '销售', parentid: 2 });
    expect(r.wc.listDepts().filter((d) => d.name === '销售')).toHaveLength(1);
  });
});

describe('a department whose first create WeCom refused, retried once WeCom had given its id to another department', () => {
  // Shrunk from the fixed seed after the fix above: DingTalk's 1010 gets WeCom 1011 (its own id
  // is taken by a WeCom-only department); DingTalk's 1011 is created under the same parent, its
  // first try refused (45009), its claim naming 1011 under the root; the retry finds 1011 there.
  it('does not take the other department’s copy for its own earlier try', async () => {
    const r = await id1010Taken();
    r.dt.addDept({ dept_id: 1010, name: '市场', parent_id: 1 });
    await r.settle();
    expect((await r.store.get('dept', '1010'))?.wecomId).toBe('1011');

    r.wc.failNext('department/create', 45009);
    r.dt.addDept({ dept_id: 1011, name: 'Ops', parent_id: 1 });
    await r.settle();
    const second = (await r.store.get('dept', '1011'))?.wecomId;
    expect(second).not.toBe('1011');
    expect(r.wc.getDept(1011)).toMatchObject({ name: '市场', parentid: 1 });
    expect(r.wc.getDept(Number(second))).toMatchObject({ name: 'Ops', parentid: 1 });
  });
});

describe('a new hire given the mobile a colleague changed while the event was lost', () => {
  // Shrunk from soak seed 777: p029 changes mobile (the event never delivered); p039 joins with
  // p029's old mobile (refused: p029 still holds it in WeCom); one reconcile writes both, p039
  // first.
  it('is created by that reconcile, after the colleague gave the mobile up', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({ depts: [{ dept_id: 2, name: '研发', parent_id: 1 }], users: [person('p029', '13900000004')] });
    await r.reconcile();

    r.dt.updateUser('p029', { mobile: '13900000038' }, { push: false });
    r.dt.addUser(person('p039', '13900000004', [1]));
    await r.settle();
    expect((await r.store.get('user', 'p039'))?.lastErrcode).toBe(60104);

    // One write at a time, in the scan's order: the root's people first.
    const run = await runReconcile({ ...r.deps(), writeConcurrency: 1 });
    expect(run.report.errors).toEqual([]);
    expect(r.wc.getUser('p029')?.mobile).toBe('+86 13900000038');
    expect(r.wc.getUser('p039')).toMatchObject({ enable: 1, mobile: '+86 13900000004', department: [1] });
  });
});

describe('a manager and their report, both retried by the same reconcile', () => {
  // Found by reading leaderWithheld (7033561): mgr and rep leave; both come back, and each
  // re-enabling write fails five times (dead-lettered, both records `failed`); one reconcile
  // retries both. The listing names no manager, so the manager waves (apply-plan.ts) cannot put
  // mgr first: rep is written while mgr is not synced yet, and withheld. rep was not `synced`
  // when the run was planned, so it is not among the reporting lines waiting, and nothing writes
  // it again in that run. Failing when written: the lead fixes lib/sync.
  it('leaves the report with the manager as direct_leader after that one reconcile', async () => {
    const r = await rigs.start({}, { seed: false });
    // Colleagues enough that the detail sweep (⌈people ÷ 7⌉ a run, in userid order) reaches
    // neither of the two in these runs: the repair must not depend on it.
    r.dt.seed({
      depts: [{ dept_id: 2, name: '研发', parent_id: 1 }],
      users: [...colleagues(20), person('mgr', '13900000001'), person('rep', '13900000002', [2], { manager_userid: 'mgr' })],
    });
    await r.reconcile();
    expect(r.wc.getUser('rep')?.direct_leader).toEqual(['mgr']);
    r.dt.removeUser('mgr');
    r.dt.removeUser('rep');
    await r.settle();

    r.wc.failNext('user/update', -1, 10); // every try of both re-enabling writes
    r.dt.addUser(person('mgr', '13900000001'));
    r.dt.addUser(person('rep', '13900000002', [2], { manager_userid: 'mgr' }));
    await r.settle();
    expect(r.queue.deadLetters).toHaveLength(2);
    expect((await r.store.get('user', 'mgr'))?.status).toBe('failed');
    expect((await r.store.get('user', 'rep'))?.status).toBe('failed');

    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(r.wc.getUser('mgr')).toMatchObject({ enable: 1 });
    expect(r.wc.getUser('rep')).toMatchObject({ enable: 1 });
    expect(r.wc.getUser('rep')?.direct_leader).toEqual(['mgr']);
  });
});

describe('a department WeCom numbered itself, whose create answer was lost, moved or deleted in DingTalk before the retry', () => {
  // From soak seed 11 (`--runs 5 --changes 300 --ignore direct_leader`, path 0:5:1:1:8): DingTalk
  // creates 1010 under 1006 (WeCom's 1010 is a department of its own, so WeCom assigns the id);
  // WeCom creates it, the answer is lost; 1010 moves under 1008 before the retry. The retry takes
  // no snapshot in doubt for the new parent (assigned-dept-create.ts compares the parent), creates
  // a second copy there, and the first stays behind under the old parent, the sync's and unknown
  // to it. The same-id case is pinned above ("… moved in DingTalk before the retry").
  // Failing when written: the lead fixes lib/sync.
  it('is taken as the sync’s own and moved, not left behind beside a second copy under the old parent', async () => {
    const r = await id1010Taken([
      { dept_id: 1000, name: '研发', parent_id: 1 },
      { dept_id: 1001, name: '市场', parent_id: 1 },
    ]);

    // The create WeCom numbers itself (no id sent): applied, answer lost.
    await createWithAnswerLost(r);

    r.dt.updateDept(1010, { parent_id: 1001 });
    await r.settle();
    const run = await r.reconcile();
    await expectOneCopyOf1010(r, run, 1001);
  });

  // From soak seed 34 (`--runs 10 --changes 150 --ignore direct_leader`, path 9:5:4, shrinking
  // stopped by the time limit): the same lost answer, and the department deleted in DingTalk
  // before the retry. The copy WeCom made stays, unknown to the store, and later blocks the
  // deletion of its parent ("holds departments the sync does not own"). With an id of its own
  // (no id taken) the claim names the copy and the deletion removes it.
  it('is deleted when DingTalk deletes the department before the retry', async () => {
    const r = await id1010Taken([{ dept_id: 1000, name: '研发', parent_id: 1 }]);

    await createWithAnswerLost(r);

    r.dt.removeDept(1010);
    await r.settle();
    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(r.wc.listDepts().filter((d) => d.name === '法务')).toEqual([]);
    expect(r.wc.getDept(1010)).toMatchObject({ name: '临时(WeCom)', parentid: wecomOnlyParent(r) });
  });
});

describe('a department that takes the name of a sibling gone from DingTalk, whose temporary rename was lost', () => {
  // From soak seed 11 (`--runs 5 --changes 300`, path 1:8): 1001 "销售" leaves DingTalk (its event
  // lost) while 1017 is renamed "销售" beside it. Freeing the name, the record of 1001 takes its
  // temporary name first, then WeCom's rename fails before WeCom acts (a lost connection): the
  // record says "销售~1001", WeCom still "销售". Every later try of 1017, the reconcile's included
  // (it writes departments before it deletes any), found no holder of "销售" and failed for good.
  it('frees the name on a later try and is written, and the holder is deleted', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({
      depts: [
        { dept_id: 1001, name: '销售', parent_id: 1 },
        { dept_id: 1017, name: 'Ops', parent_id: 1 },
      ],
    });
    await r.reconcile();

    const lost = faultOnce(r, temporaryRename, { kind: 'drop' });
    r.dt.removeDept(1001, { push: false });
    r.dt.recordFailedPush('org_dept_remove', { deptIds: [1001] });
    r.dt.updateDept(1017, { name: '销售' });
    await r.settle();
    expect(lost.fired()).toBe(true);
    // The retry of 1017 frees the name again, and 1001, gone from DingTalk, is deleted on the way.
    expect(r.wc.getDept(1017)).toMatchObject({ name: '销售', parentid: 1 });
    expect(r.wc.getDept(1001)).toBeUndefined();

    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(writesIn(run.report.counts)).toEqual({});
  });
});

describe('a department whose create never succeeded, deleted in DingTalk, whose claim names another department’s copy', () => {
  // From soak seed 35 (`--runs 10 --changes 150 --ignore direct_leader`, path 6:4:1:1:7:7): WeCom's
  // 1010 is its own, so DingTalk's 1010 gets 1011; DingTalk's 1011 is created under the same
  // parent, its claim naming 1011 (the id it asked for first), and its create WeCom numbers
  // itself fails until dead-lettered; DingTalk deletes 1011. The claim is taken as a create whose
  // result was lost (identity.ts `claimedDeptPresent`: id and parent match, whoever holds it),
  // and WeCom's 1011, DingTalk 1010's copy, is deleted. In the soak the copy held members, so
  // WeCom refused and the reconcile reported 1011 blocked by them; empty, it is simply gone.
  // Failing when written: the lead fixes lib/sync.
  for (const by of ['the worker', 'the reconcile']) {
    it(`leaves that copy alone when ${by} applies the deletion`, async () => {
      const r = await id1010Taken();
      r.dt.addDept({ dept_id: 1010, name: '市场', parent_id: 1 });
      await r.settle();
      expect((await r.store.get('dept', '1010'))?.wecomId).toBe('1011');

      // Every create WeCom would number itself fails (-1): dead-lettered.
      let failing = true;
      r.wc.setFaultPolicy((call) =>
        failing && call.api === 'department/create' && (JSON.parse(call.body) as { id?: number }).id === undefined
          ? { kind: 'errcode', errcode: -1 }
          : undefined,
      );
      r.dt.addDept({ dept_id: 1011, name: 'Ops', parent_id: 1 });
      await r.settle();
      failing = false;
      expect(r.queue.deadLetters).toHaveLength(1);
      expect(await r.store.get('dept', '1011')).toMatchObject({ owned: false, claim: { wecomId: '1011' } });

      r.dt.removeDept(1011, { push: by === 'the worker' });
      await r.settle();
      if (by === 'the reconcile') expect((await r.reconcile()).report.errors).toEqual([]);
      expect(r.wc.getDept(1011)).toMatchObject({ name: '市场', parentid: 1 });
      expect((await r.store.get('dept', '1010'))?.wecomId).toBe('1011');
    });
  }
});

describe('a department taking a name whose holder’s temporary rename WeCom refused', () => {
  // From soak seed 36 (`--runs 10 --changes 150 --ignore direct_leader`, path
  // 0:7:1:1:0:0:0:0:0:1:0:4:6:10:10:10:14:14:16:21:21:25:25:28:33:33): 1002 "QA" moves under 1004
  // (push lost); 1004 "QA" moves under 1000, where WeCom still has 1002 "QA" (60008). Freeing the
  // name records 1002's temporary name first, then WeCom refuses the rename (-1 here; 45009 in
  // the soak) and the message is retried. The retry looks for a holder whose record names "QA",
  // finds none (the record says "QA~1002", WeCom still "QA"), and records 60008 for good; the
  // reconcile meets the same (1004 is written before 1002, parents first) and nothing tries 1004
  // again. Soak seed 23 (path 0:9:8:8:8:8) ends the same way (60008 on 1036). Failing when
  // written: the lead fixes lib/sync.
  it('takes it once the holder has moved: after the retry, or at the latest after one reconcile', async () => {
    const r = await rigs.start({}, { seed: false });
    r.dt.seed({
      depts: [
        { dept_id: 1000, name: '研发', parent_id: 1 },
        { dept_id: 1002, name: 'QA', parent_id: 1000 },
        { dept_id: 1004, name: 'QA', parent_id: 1 },
      ],
    });
    await r.reconcile();
    r.dt.updateDept(1002, { parent_id: 1004 }, { push: false });
    r.dt.recordFailedPush('org_dept_modify', { deptIds: [1002] });

    const refused = faultOnce(r, temporaryRename, { kind: 'errcode', errcode: -1 });
    r.dt.updateDept(1004, { parent_id: 1000 });
    await r.settle();
    expect(refused.fired()).toBe(true);

    const run = await r.reconcile();
    await r.settle();
    expect(run.report.errors).toEqual([]);
    expect(r.wc.getDept(1004)).toMatchObject({ name: 'QA', parentid: 1000 });
    expect(r.wc.getDept(1002)).toMatchObject({ name: 'QA', parentid: 1004 });
  });
});

describe('a department WeCom numbered itself, whose create is in doubt (review 9b)', () => {
  /** WeCom's own 1010 takes DingTalk 1010's id, so WeCom numbers DingTalk 1010's copy itself. */
  const start = () => id1010Taken([{ dept_id: 1000, name: '研发', parent_id: 1 }]);
  // The create's answer is lost (WeCom made the copy); every retry fails (-1) until the message is
  // dead-lettered; DingTalk then deletes the department and that event is lost too. Only the
  // reconcile can finish the try, but its plan counts only owned records and claims naming an id
  // (plan.ts `ownedDeptStates`): `creating` is never looked at, so the copy stays in WeCom,
  // unknown to the store (and later blocks its parent's deletion, as in soak seed 34).
  // Failing when written: the lead fixes lib/sync.
  it('is deleted by the reconcile when the deletion reaches only the reconcile', async () => {
    const r = await start();
    let first = true;
    let failing = true;
    r.wc.setFaultPolicy((call) => {
      if (!failing || !assignedCreate(call)) return undefined;
      if (first) {
        first = false;
        return { kind: 'dropAfter' };
      }
      return { kind: 'errcode', errcode: -1 };
    });
    r.dt.addDept({ dept_id: 1010, name: '法务', parent_id: 1000 });
    await r.settle();
    failing = false;
    expect(r.queue.deadLetters).toHaveLength(1);
    expect(r.wc.listDepts().filter((d) => d.name === '法务')).toMatchObject([{ parentid: 1000 }]); // made all the same

    r.dt.removeDept(1010, { push: false });
    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(r.wc.listDepts().filter((d) => d.name === '法务')).toEqual([]);
  });

  // The create's answer is lost (WeCom made the copy under 研发). Before the retry the department
  // moves under a new DingTalk department 财务 whose create WeCom refuses for good (a department
  // made by hand already has that name). The retry records "parent … failed" permanently, and
  // recordPermanent (entity-state.ts recordFailure) saves the record without `creating`: once 财务
  // can be made, the department is created again under it and the first copy stays under 研发.
  // Failing when written: the lead fixes lib/sync.
  it('is not left behind when a permanent failure is recorded between the try and its retry', async () => {
    const r = await start();
    const handMade = r.wc.seedDept({ name: '财务', parentid: 1 });
    await createWithAnswerLost(r);

    r.dt.addDept({ dept_id: 1020, name: '财务', parent_id: 1 });
    r.dt.updateDept(1010, { parent_id: 1020 });
    await r.settle();
    expect(await r.store.get('dept', '1010')).toMatchObject({ status: 'failed', owned: false });

    r.wc.updateDeptByHand(handMade, { name: '财务(旧)' });
    const run = await r.reconcile();
    await expectOneCopyOf1010(r, run, 1020);
  });

  // The create is lost before WeCom acts (nothing made). Before the retry: DingTalk renames the
  // department 法务部 and adds 1005 "法务" beside it (written: the sync's own, named 法务); an
  // administrator makes 档案室 by hand under 研发. The retry "finishes the earlier try" (法务
  // under 研发): 60008, because of 1005, which madeSince sets aside as held, and the one unheld
  // child that appeared since is 档案室: taken as the copy, renamed 法务部 and recorded as ours.
  // Failing when written: the lead fixes lib/sync.
  it('does not take a department made by hand for the earlier try when a held sibling has the old name', async () => {
    const r = await start();
    const dropped = faultOnce(r, assignedCreate, { kind: 'drop' });
    r.dt.addDept({ dept_id: 1010, name: '法务', parent_id: 1000 });
    await r.dt.idle();
    const batch = await runOneBatch(r.queue, r.process);
    expect(batch?.response.batchItemFailures).toHaveLength(1);
    expect(dropped.fired()).toBe(true);
    expect(r.wc.listDepts().filter((d) => d.name === '法务')).toEqual([]); // nothing made

    const handMade = r.wc.seedDept({ name: '档案室', parentid: 1000 });
    r.dt.updateDept(1010, { name: '法务部' }, { push: false });
    r.dt.addDept({ dept_id: 1005, name: '法务', parent_id: 1000 }, { push: false });
    const run = await r.reconcile(); // 1005 is written before 1010 (same depth, lower id)
    expect(run.report.errors).toEqual([]);
    expect(r.wc.getDept(handMade)).toMatchObject({ name: '档案室', parentid: 1000 });
    expect((await r.store.get('dept', '1010'))?.wecomId).not.toBe(String(handMade));
  });
});
