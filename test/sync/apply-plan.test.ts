/**
 * Applying a plan: the order of operations, what each one asks of EntitySync, and what a run
 * reports. EntitySync is replaced by a stub that records its calls; its own behaviour is tested
 * in entity.test.ts, the whole run in reconcile.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../lib/errors';
import type { DingTalkDept, DingTalkUser } from '../../lib/ports';
import { type ApplyDeps, applyPlan, managerWaves } from '../../lib/sync/apply-plan';
import type { SyncOutcome } from '../../lib/sync/entity';
import type { PlanOp } from '../../lib/sync/plan';
import { WECOM_ERR } from '../../lib/wecom/errors';

const dept = (id: number): DingTalkDept => ({ dept_id: id, name: `d${id}`, parent_id: 1 });
const user = (id: string, manager?: string): DingTalkUser => ({ userid: id, name: id, dept_id_list: [2], manager_userid: manager });

/** Records each call as one line; answers with `answer` (or throws what it returns as an Error). */
function stubSync(answer: (call: string) => Partial<SyncOutcome> | Error = () => ({ result: 'updated' })) {
  const calls: string[] = [];
  const respond = async (call: string, kind: 'user' | 'dept', id: string): Promise<SyncOutcome> => {
    calls.push(call);
    const a = answer(call);
    if (a instanceof Error) throw a;
    return { kind, id, result: 'updated', ...a };
  };
  const sync: ApplyDeps['sync'] = {
    syncUser: (id, o) => respond(`syncUser ${id}${o ? ` ${JSON.stringify(o)}` : ''}`, 'user', id),
    syncDept: (id, o) => respond(`syncDept ${id}${o ? ` ${JSON.stringify(o)}` : ''}`, 'dept', String(id)),
    applyUser: (u, o) => respond(`applyUser ${u.userid} ${JSON.stringify(o)}`, 'user', u.userid),
    recordUserConflict: (id, message) => respond(`recordUserConflict ${id} ${message}`, 'user', id),
    completeReportingLine: (id) => respond(`completeReportingLine ${id}`, 'user', id),
  };
  return { calls, deps: { sync, writeConcurrency: 1 } };
}

const ops: PlanOp[] = [
  { op: 'create_dept', kind: 'dept', id: '2', changes: '', dept: dept(2), force: false, stateVersion: 0 },
  { op: 'adopt_dept', kind: 'dept', id: '3', changes: '', dept: dept(3), force: false, stateVersion: 0 },
  { op: 'update_dept', kind: 'dept', id: '4', changes: '', dept: dept(4), force: false, stateVersion: 2 },
  { op: 'update_user', kind: 'user', id: 'c', changes: '', user: user('c', 'b'), force: true, stateVersion: 4 },
  { op: 'create_user', kind: 'user', id: 'b', changes: '', user: user('b'), force: false, stateVersion: 0 },
  { op: 'disable_user', kind: 'user', id: 'x', wecomId: 'x', changes: '' },
  { op: 'delete_dept', kind: 'dept', id: '9', wecomId: '9', changes: '' },
];

describe('operations run in an order WeCom accepts', () => {
  it('departments first, then leavers, then the other users with managers before their reports, then department deletions', async () => {
    const { calls, deps } = stubSync();
    await applyPlan(deps, ops);
    expect(calls).toEqual([
      // Departments are always read from DingTalk again: the scan's listing has no order.
      'syncDept 2 {"force":false}',
      'syncDept 3 {"force":false}', // whether to adopt is EntitySync's rule, not the plan's say
      'syncDept 4 {"force":false}',
      // Leavers before the others, who may need the contact details a disabled leaver gives up.
      'syncUser x', // a removal reads the user again: it may have come back since the scan
      // Users the store had no record of: written from the scan, unless a record appeared since.
      'applyUser b {"force":false,"ifVersion":0,"releaseFrom":[]}',
      // Recorded ones: read from DingTalk again under the lease, never written from the scan.
      'syncUser c {"force":true,"releaseFrom":[]}',
      'syncDept 9',
    ]);
  });
});

describe('what a run reports', () => {
  it('counts what succeeded per operation and lists what failed, with progress for each', async () => {
    const { deps } = stubSync((call) => (call.startsWith('applyUser b') ? { result: 'failed', errcode: WECOM_ERR.badMobile, message: 'bad mobile' } : {}));
    const progress: number[] = [];
    const result = await applyPlan(deps, ops, (done, total) => progress.push(done / total));
    expect(result).toEqual({
      counts: { create_dept: 1, adopt_dept: 1, update_dept: 1, update_user: 1, disable_user: 1, delete_dept: 1 },
      errors: [{ kind: 'user', id: 'b', op: 'create_user', errcode: WECOM_ERR.badMobile, message: 'bad mobile' }],
      conflicts: [],
      notices: [],
      skipped: 0,
      stoppedBy: undefined,
    });
    expect(progress).toHaveLength(ops.length);
    expect(progress.at(-1)).toBe(1);
  });

  it('tries a person WeCom refused a mobile or email once more after everyone else, read again and forced', async () => {
    const taken = { result: 'failed' as const, errcode: WECOM_ERR.mobileExists, message: 'taken' };
    const once = stubSync((call) => (call.startsWith('applyUser b') ? taken : {}));
    const progress: number[] = [];
    const result = await applyPlan(once.deps, ops, (done, total) => progress.push(done / total));
    expect(once.calls.slice(-3)).toEqual(['syncUser c {"force":true,"releaseFrom":[]}', 'syncUser b {"force":true,"releaseFrom":[]}', 'syncDept 9']);
    expect(result.errors).toEqual([]);
    expect(result.counts.create_user).toBe(1);
    expect(progress).toHaveLength(ops.length);
    // Refused again: recorded, and not tried a third time.
    const twice = stubSync((call) => (call.startsWith('applyUser b') || call.startsWith('syncUser b') ? taken : {}));
    const again = await applyPlan(twice.deps, ops);
    expect(twice.calls.filter((c) => c.includes(' b '))).toHaveLength(2);
    expect(again.errors).toEqual([{ kind: 'user', id: 'b', op: 'create_user', errcode: WECOM_ERR.mobileExists, message: 'taken' }]);
  });

  it('writes again, after every user write and before department deletions, the people whose manager could not lead when they were written', async () => {
    const { calls, deps } = stubSync((call) => (call === 'completeReportingLine r2' ? { result: 'unchanged' } : {}));
    const result = await applyPlan(deps, ops, undefined, { reportingLinesWaiting: ['r1', 'r2'] });
    expect(calls.slice(-3)).toEqual(['completeReportingLine r1', 'completeReportingLine r2', 'syncDept 9']);
    // Only a person actually written again counts; one whose manager still cannot lead costs nothing.
    expect(result.counts.set_leader).toBe(1);
    // A person this run wrote without their manager is among them, whatever the plan knew.
    const withheld = stubSync((call) => (call.startsWith('syncUser c') ? { leaderWithheld: 'b' } : {}));
    await applyPlan(withheld.deps, ops, undefined, { reportingLinesWaiting: ['r1'] });
    expect(withheld.calls.slice(-3)).toEqual(['completeReportingLine r1', 'completeReportingLine c', 'syncDept 9']);
    const failing = stubSync((call) => (call === 'completeReportingLine r1' ? new Error('network down') : {}));
    const failed = await applyPlan(failing.deps, ops, undefined, { reportingLinesWaiting: ['r1'] });
    expect(failed.errors).toEqual([{ kind: 'user', id: 'r1', op: 'set_leader', errcode: undefined, message: 'network down' }]);
  });

  it('stops starting operations after a configuration error, and says why', async () => {
    const refused = new PlatformError('wecom', 'department/create', WECOM_ERR.untrustedIp, 'not allowed', 'configuration');
    const { calls, deps } = stubSync(() => refused);
    const result = await applyPlan(deps, ops);
    expect(calls).toHaveLength(1);
    expect(result.skipped).toBe(ops.length - 1);
    expect(result.stoppedBy).toBe(refused.message);
    expect(result.errors).toEqual([{ kind: 'dept', id: '2', op: 'create_dept', errcode: WECOM_ERR.untrustedIp, message: refused.message }]);
  });

  it('goes on after any other thrown error, reporting it', async () => {
    const { calls, deps } = stubSync((call) => (call === 'syncDept 9' ? new Error('network down') : {}));
    const result = await applyPlan(deps, ops);
    expect(calls).toHaveLength(ops.length);
    expect(result.errors).toEqual([{ kind: 'dept', id: '9', op: 'delete_dept', errcode: undefined, message: 'network down' }]);
    expect(result.stoppedBy).toBeUndefined();
  });
});

describe('people: conflicts, contact releases', () => {
  it('records a conflict without a WeCom write, reports it as a standing conflict, and gathers what writes did to others as notices', async () => {
    const conflict: PlanOp = { op: 'conflict_user', kind: 'user', id: 'abc', wecomId: 'Abc', changes: 'WeCom has "Abc"' };
    const rehire: PlanOp = { op: 'create_user', kind: 'user', id: 'new', changes: '', user: user('new'), force: false, stateVersion: 0, releaseFrom: ['old'] };
    const notice = { kind: 'user' as const, id: 'old', message: 'old gave up its mobile to new' };
    const { calls, deps } = stubSync((call) =>
      call.startsWith('recordUserConflict')
        ? { result: 'failed', errcode: WECOM_ERR.useridExists, message: 'WeCom has "Abc"' }
        : { result: 'created', notices: [notice] },
    );
    const result = await applyPlan(deps, [conflict, rehire]);
    expect(calls).toEqual(['recordUserConflict abc WeCom has "Abc"', 'applyUser new {"force":false,"ifVersion":0,"releaseFrom":["old"]}']);
    // A standing conflict, apart from this run's failures.
    expect(result.conflicts).toEqual([{ kind: 'user', id: 'abc', op: 'conflict_user', errcode: WECOM_ERR.useridExists, message: 'WeCom has "Abc"' }]);
    expect(result.errors).toEqual([]);
    expect(result.notices).toEqual([notice]);
  });
});

describe('managerWaves', () => {
  it('puts managers before their reports and survives cycles', () => {
    const op = (id: string, manager?: string) => ({
      op: 'create_user' as const,
      kind: 'user' as const,
      id,
      changes: '',
      force: false,
      stateVersion: 0,
      user: { userid: id, name: id, dept_id_list: [2], manager_userid: manager },
    });
    const waves = managerWaves([op('c', 'b'), op('b', 'a'), op('a'), op('x', 'y'), op('y', 'x')]);
    expect(waves.map((w) => w.map((o) => o.id).sort())).toEqual([['a'], ['b', 'y'], ['c', 'x']]);
  });
});
