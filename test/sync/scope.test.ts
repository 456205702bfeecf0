import { describe, expect, it } from 'vitest';
import { deptInScope, SyncScope } from '../../lib/sync/scope';

// 1 ─┬─ 2 ── 3 ── 5
//    └─ 4
describe('deptInScope: the nearest root or excluded department on the chain decides', () => {
  it.each<[number[], number[], number[], boolean, string]>([
    [[3, 2, 1], [1], [], true, 'below the root'],
    [[1], [1], [], true, 'the root itself'],
    [[4, 1], [2], [], false, 'outside the only root'],
    [[3, 2, 1], [2], [], true, 'below a narrower root'],
    [[3, 2, 1], [1], [2], false, 'below an excluded parent'],
    [[2, 1], [1], [2], false, 'excluded itself'],
    [[2, 1], [2], [2], false, 'a root that is excluded too'],
    [[5, 3, 2, 1], [3], [2], true, 'a root inside an excluded subtree: the nearer rule wins'],
    [[3, 2], [1], [], false, 'a chain that stops before any root (a cycle, a gap)'],
  ])('%o roots %o exclude %o → %s (%s)', (chain, rootDeptIds, excludeDeptIds, inScope) => {
    expect(deptInScope(chain, { rootDeptIds, excludeDeptIds })).toBe(inScope);
  });
});

describe('SyncScope', () => {
  const scope = new SyncScope({ rootDeptIds: [2, 4, 2, 6], excludeDeptIds: [3, 6] });

  it('judges chains as deptInScope does', () => {
    expect(scope.includes([5, 2, 1])).toBe(true);
    expect(scope.includes([5, 3, 2, 1])).toBe(false);
  });

  it('knows where walking up stops mattering', () => {
    expect([1, 2, 3, 4, 5].map((id) => scope.decidedAt(id))).toEqual([false, true, true, true, false]);
  });

  it('starts a top-down walk from each root once, never from an excluded one, and drops excluded children', () => {
    expect(scope.startingRoots()).toEqual([2, 4]);
    expect(scope.includesChildOfIncluded(5)).toBe(true);
    expect(scope.includesChildOfIncluded(3)).toBe(false);
  });

  it("maps DingTalk's root to WeCom's only while it is in scope: excluded, or not a root, it is no place for anyone", () => {
    expect(new SyncScope({ rootDeptIds: [1], excludeDeptIds: [] }).mapsToWeComRoot(1)).toBe(true);
    expect(new SyncScope({ rootDeptIds: [1], excludeDeptIds: [1] }).mapsToWeComRoot(1)).toBe(false);
    expect(new SyncScope({ rootDeptIds: [2], excludeDeptIds: [] }).mapsToWeComRoot(1)).toBe(false);
    expect(new SyncScope({ rootDeptIds: [2], excludeDeptIds: [] }).mapsToWeComRoot(2)).toBe(false);
  });
});
