import { describe, expect, it } from 'vitest';
import { sweepSlice } from '../../lib/sync/detail-sweep';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${String(i).padStart(2, '0')}`);

/** The slices of `runs` consecutive runs from an empty cursor. */
function runsOf(userids: string[], runs: number, count = runs): string[][] {
  const out: string[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < count; i++) {
    const s = sweepSlice(userids, cursor, runs);
    out.push(s.userids);
    cursor = s.cursor;
  }
  return out;
}

describe('the detail sweep', () => {
  it('re-reads ⌈n ÷ runs⌉ people per run in userid order, so that many runs cover everyone exactly once when it divides', () => {
    const slices = runsOf(ids(14), 7);
    expect(slices.map((s) => s.length)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    expect(slices.flat()).toEqual(ids(14));
  });

  it('covers everyone within `runs` runs when it does not divide, wrapping round at the end', () => {
    const slices = runsOf(ids(15), 7);
    expect(slices[0]).toEqual(['u00', 'u01', 'u02']);
    expect(new Set(slices.flat())).toEqual(new Set(ids(15)));
    expect(slices[5]).toEqual(['u00', 'u01', 'u02']); // 5 runs went round once; the sixth starts again
  });

  it('sorts by userid whatever order the listing gave, and ignores a person listed twice', () => {
    expect(sweepSlice(['c', 'a', 'b', 'a'], undefined, 3)).toEqual({ userids: ['a'], cursor: 'a' });
    expect(sweepSlice(['c', 'a', 'b'], 'a', 3)).toEqual({ userids: ['b'], cursor: 'b' });
  });

  it('starts after a cursor that has left, and wraps round after the last userid', () => {
    expect(sweepSlice(['a', 'c', 'e'], 'b', 3).userids).toEqual(['c']);
    expect(sweepSlice(['a', 'c', 'e'], 'e', 3).userids).toEqual(['a']);
    expect(sweepSlice(['a', 'c', 'e'], 'z', 3).userids).toEqual(['a']);
  });

  it('re-reads everyone in one run when runs is 1 or people are fewer than runs allow', () => {
    expect(sweepSlice(ids(5), 'u02', 1).userids).toEqual(['u03', 'u04', 'u00', 'u01', 'u02']);
    expect(sweepSlice(['only'], 'only', 7)).toEqual({ userids: ['only'], cursor: 'only' });
  });

  it('keeps the cursor when nobody is in scope', () => {
    expect(sweepSlice([], 'u03', 7)).toEqual({ userids: [], cursor: 'u03' });
    expect(sweepSlice([], undefined, 7)).toEqual({ userids: [], cursor: undefined });
  });

  it('refuses a number of runs that is not a positive whole number', () => {
    for (const runs of [0, -1, 2.5, Number.NaN]) expect(() => sweepSlice(['a'], undefined, runs)).toThrow(RangeError);
  });
});
