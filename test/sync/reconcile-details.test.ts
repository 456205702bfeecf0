/**
 * The reconcile's full reads of people (lib/sync/reconcile-details.ts) against the simulators
 * over HTTP: DingTalk's listings name no manager, so a first import reads each new person in
 * full to set their reporting line, and the detail sweep re-reads a slice per run so that a
 * reporting line no event delivered is repaired within SYNC_DETAIL_SWEEP_RUNS runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { FileStateStore } from '../../lib/local/file-store';
import { wecomWrites } from '../../lib/sandbox/pipeline';
import { DETAIL_SWEEP_CURSOR } from '../../lib/sync/detail-sweep';
import { runReconcile } from '../../lib/sync/reconcile';
import { opsOf, type Rig, rigLifecycle } from '../correctness/rig';

const rigs = rigLifecycle();
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Fourteen people, p00 … p13, so seven runs re-read two each, in userid order: run k re-reads
 * p(2k-2) and p(2k-1). Reporting lines cross departments and run three deep.
 */
const MANAGERS: Record<string, string | undefined> = {
  p00: undefined,
  p01: 'p00',
  p02: 'p00',
  p03: 'p01',
  p04: 'p01',
  p05: 'p01',
  p06: 'p01',
  p07: 'p01',
  p08: 'p02',
  p09: 'p02',
  p10: 'p02',
  p11: 'p02',
  p12: 'p02',
  p13: 'p05',
};
const PEOPLE = Object.keys(MANAGERS);

/** `rateLimits`: DingTalk's 20 calls/s enforced by the simulator, and every call paced under it. */
async function organisation(opts: { rateLimits?: boolean } = {}): Promise<Rig> {
  const r = await rigs.start({}, { seed: false, rateLimits: opts.rateLimits });
  r.dt.seed({
    depts: [
      { dept_id: 2, name: '研发部', parent_id: 1 },
      { dept_id: 3, name: '后端组', parent_id: 2 },
      { dept_id: 4, name: '市场部', parent_id: 1 },
    ],
    users: PEOPLE.map((userid, i) => ({
      userid,
      name: `员工${i}`,
      mobile: `139000000${String(i).padStart(2, '0')}`,
      dept_id_list: i === 0 ? [1] : i <= 2 ? [2, 4] : i % 2 ? [3] : [4],
      leader_in_dept: i === 1 ? [{ dept_id: 2, leader: true }] : undefined,
      manager_userid: MANAGERS[userid],
    })),
  });
  return r;
}

function tempStateFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'detail-sweep-'));
  dirs.push(dir);
  return join(dir, 'state.json');
}

describe('a first import carries reporting lines', () => {
  it("sets direct_leader for everyone with a manager, reading each person in full once, under DingTalk's 20 calls/s", async () => {
    const r = await organisation({ rateLimits: true }); // DingTalk's own limit: 90018 beyond it
    const result = await runReconcile(r.deps());
    expect(result.report.errors).toEqual([]);
    expect(result.report.counts).toMatchObject({ create_user: 14, detail_swept: 2, detail_read: 14 });
    expect(r.dt.calls['topapi/v2/user/get']).toBe(14);
    for (const userid of PEOPLE) {
      const manager = MANAGERS[userid];
      expect(r.wc.getUser(userid)?.direct_leader, userid).toEqual(manager ? [manager] : []);
    }
    // Leadership and order per department come from each department's listing.
    expect(r.wc.getUser('p01')).toMatchObject({ department: [2, 4], is_leader_in_dept: [1, 0] });
  });

  it('the seeded organisation: zhangsan reports to lisi from the first run', async () => {
    const r = await rigs.start();
    await r.reconcile();
    expect(r.wc.getUser('zhangsan')?.direct_leader).toEqual(['lisi']);
  });
});

describe('a converged organisation costs no WeCom write', () => {
  it('after the import, a second run and a whole sweep cycle of 7 runs write nothing, while re-reading everyone', async () => {
    const r = await organisation();
    await r.reconcile();
    r.wc.resetCalls();
    const swept: string[] = [];
    for (let run = 2; run <= 9; run++) {
      const result = await r.reconcile();
      expect(opsOf(result), `run ${run}`).toEqual([]);
      expect(result.report.status).toBe('success');
      swept.push(String(await r.store.getCursor(DETAIL_SWEEP_CURSOR)));
    }
    expect(wecomWrites(r.wc)).toBe(0);
    // Runs 2 … 8 are one cycle: it ends on everyone's last slice; run 9 starts again.
    expect(swept).toEqual(['p03', 'p05', 'p07', 'p09', 'p11', 'p13', 'p01', 'p03']);
  });
});

describe('a reporting line changed without an event', () => {
  it('is repaired by the run whose slice holds the person, not before, across a restart of the file store', async () => {
    const r = await organisation();
    const path = tempStateFile();
    let store = new FileStateStore(path);
    await r.reconcile({}, { store }); // run 1: the import, sweeping p00 and p01
    r.dt.updateUser('p13', { manager_userid: 'p09' }, { push: false });

    for (let run = 2; run <= 6; run++) {
      if (run === 4) store = new FileStateStore(path); // the process restarts: only the file remains
      r.wc.resetCalls();
      const result = await r.reconcile({}, { store });
      expect(opsOf(result), `run ${run}`).toEqual([]);
      expect(wecomWrites(r.wc)).toBe(0);
      expect(r.wc.getUser('p13')?.direct_leader).toEqual(['p05']);
      expect(await store.getCursor(DETAIL_SWEEP_CURSOR)).toBe(`p${String(2 * run - 1).padStart(2, '0')}`);
    }

    // Run 7 re-reads p12 and p13. A dry run shows it and leaves the cursor where it was.
    const dry = await r.reconcile({ dryRun: true }, { store });
    expect(opsOf(dry)).toEqual(['update_user p13']);
    expect(await new FileStateStore(path).getCursor(DETAIL_SWEEP_CURSOR)).toBe('p11');

    r.wc.resetCalls();
    const seventh = await r.reconcile({}, { store: new FileStateStore(path) });
    expect(opsOf(seventh)).toEqual(['update_user p13']);
    expect(r.wc.getUser('p13')?.direct_leader).toEqual(['p09']);
    expect(r.wc.calls['user/update']).toBe(1);
    expect(wecomWrites(r.wc)).toBe(1);
  });

  it('with every person in the slice, the one whose manager changed costs one write (of the whole record) and the others none', async () => {
    const r = await rigs.start();
    const everyRun = { env: { SYNC_DETAIL_SWEEP_RUNS: '1' } };
    await r.reconcile({}, everyRun);
    r.dt.updateUser('zhangsan', { manager_userid: 'wangwu' }, { push: false });
    r.wc.resetCalls();
    const result = await r.reconcile({}, everyRun);
    expect(result.report.counts).toMatchObject({ detail_swept: 3, update_user: 1 });
    expect(r.wc.getUser('zhangsan')).toMatchObject({ direct_leader: ['wangwu'], position: '后端工程师', department: [3] });
    expect(wecomWrites(r.wc)).toBe(1);
  });
});

describe('a full read that fails', () => {
  /** The rig's DingTalk behind a gateway that answers `answer` to user/get for `userid`. */
  async function failingFor(r: Rig, userid: string, answer: string) {
    const gw = await rigs.gateway('');
    gw.target = new URL(r.dt.url).origin;
    gw.rules.push({
      api: 'topapi/v2/user/get',
      rewrite: (text, body) => ((JSON.parse(body) as { userid?: string }).userid === userid ? answer : text),
    });
    return { DINGTALK_API_BASE: gw.origin };
  }

  it('creates the person without a reporting line, reports it, and a later sweep sets the line', async () => {
    const r = await rigs.start();
    await r.reconcile();
    r.dt.addUser({ userid: 'xnew', name: '新人', mobile: '13900000099', dept_id_list: [3], manager_userid: 'lisi' }, { push: false });
    const env = await failingFor(r, 'xnew', JSON.stringify({ errcode: DINGTALK_ERR.invalidParam, errmsg: '不合法的参数' }));
    const result = await runReconcile({ ...r.deps({ env }), readRetryDelaysMs: [] });
    expect(result.report.status).toBe('partial');
    expect(result.report.errors).toEqual([expect.objectContaining({ kind: 'user', id: 'xnew', op: 'read_detail', errcode: DINGTALK_ERR.invalidParam })]);
    expect(r.wc.getUser('xnew')).toMatchObject({ enable: 1, department: [3] });
    expect(r.wc.getUser('xnew')?.direct_leader ?? []).toEqual([]);

    const later = await r.reconcile({}, { env: { SYNC_DETAIL_SWEEP_RUNS: '1' } });
    expect(opsOf(later)).toEqual(['update_user xnew']);
    expect(r.wc.getUser('xnew')?.direct_leader).toEqual(['lisi']);
  });

  it("one person outside the app's visible range is reported, and the others are still read in full", async () => {
    const r = await rigs.start();
    await r.reconcile();
    r.dt.addUser({ userid: 'xhidden', name: '不可见', mobile: '13900000097', dept_id_list: [3], manager_userid: 'lisi' }, { push: false });
    r.dt.addUser({ userid: 'ynew', name: '新人', mobile: '13900000096', dept_id_list: [3], manager_userid: 'lisi' }, { push: false });
    const env = await failingFor(r, 'xhidden', JSON.stringify({ errcode: DINGTALK_ERR.userOutOfScope, errmsg: '请求的员工userid不在授权范围内' }));
    const result = await runReconcile({ ...r.deps({ env }), readConcurrency: 1 });
    expect(result.report.errors).toEqual([expect.objectContaining({ id: 'xhidden', op: 'read_detail', errcode: DINGTALK_ERR.userOutOfScope })]);
    expect(result.report.counts).not.toHaveProperty('detail_skipped');
    expect(r.wc.getUser('ynew')?.direct_leader).toEqual(['lisi']);
  });

  it('does not create a person DingTalk says has left since the listing', async () => {
    const r = await rigs.start();
    await r.reconcile();
    r.dt.addUser({ userid: 'xgone', name: '已离职', mobile: '13900000098', dept_id_list: [3] }, { push: false });
    const env = await failingFor(r, 'xgone', JSON.stringify({ errcode: DINGTALK_ERR.userNotFound, errmsg: '找不到该用户' }));
    const result = await r.reconcile({}, { env });
    expect(opsOf(result)).toEqual(['create_user xgone']);
    expect(result.report.status).toBe('success');
    expect(result.report.counts).toMatchObject({ gone_before_write: 1 });
    expect(r.wc.getUser('xgone')).toBeUndefined();
    expect(await r.store.get('user', 'xgone')).toBeUndefined();
  });

  it('stops reading after a configuration error: every other read would fail the same way', async () => {
    const r = await organisation();
    // The sweep's first read: the app may no longer read contacts.
    r.dt.failNext('topapi/v2/user/get', DINGTALK_ERR.noContactPermission, 1);
    const result = await runReconcile({ ...r.deps(), readConcurrency: 1 });
    expect(result.report.status).toBe('partial');
    expect(result.report.errors).toEqual([expect.objectContaining({ op: 'read_detail', errcode: DINGTALK_ERR.noContactPermission })]);
    // p01, the rest of the slice; then all fourteen to be created (p00's read failed, so it is asked for again).
    expect(result.report.counts).toMatchObject({ detail_read: 1, detail_skipped: 15 });
    expect(r.dt.calls['topapi/v2/user/get']).toBe(1);
    expect(r.wc.listUsers()).toHaveLength(14); // created from the listings, lines left for the sweep
    // The slice was not read: once the permission is back, the next run reads it again.
    expect(await r.store.getCursor(DETAIL_SWEEP_CURSOR)).toBeUndefined();
    const next = await r.reconcile();
    expect(next.report.counts).toMatchObject({ detail_swept: 2 });
    expect(await r.store.getCursor(DETAIL_SWEEP_CURSOR)).toBe('p01');
  });
});
