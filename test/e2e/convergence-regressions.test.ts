/**
 * What the convergence property (convergence.property.test.ts) found, each failure shrunk and
 * written again by hand as a small deterministic run of the pipeline: DingTalk simulator →
 * signed push → callback → queue → worker → WeCom simulator, plus the reconcile. Each test says
 * the shrunk sequence it comes from.
 */
import { describe, expect, it } from 'vitest';
import { rigLifecycle } from '../correctness/rig';

const rigs = rigLifecycle();

describe('a department whose DingTalk id WeCom had already given to another department', () => {
  // Shrunk: WeCom has a department 1010 of its own; DingTalk creates 1010 (WeCom assigns it
  // 1011), then 1011 under the same parent.
  it('gets its own WeCom department instead of taking over the one the sync made for the other', async () => {
    const r = await rigs.start({}, { seed: false });
    const own = r.wc.seedDept({ name: '行政(WeCom)', parentid: 1 });
    r.wc.seedDept({ id: 1010, name: '临时(WeCom)', parentid: own });
    await r.reconcile();

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
    expect(r.wc.getDept(1010)).toMatchObject({ name: '临时(WeCom)', parentid: own });

    // The reconcile judges the same way: nothing to adopt, nothing to change.
    const run = await r.reconcile();
    expect(run.report.errors).toEqual([]);
    expect(run.report.counts).toEqual({ failed_push_enqueued: 0 });
  });
});
