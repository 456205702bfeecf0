/**
 * The reconcile's detail sweep: which people one run re-reads in full (`user/get`). A listing
 * (`v2/user/list`) cannot show a person's manager, so a reporting line that no event delivered
 * would otherwise stay wrong for good. Each run re-reads the next ⌈people ÷ runs⌉ people in
 * userid order, starting after the userid the previous run ended on (its cursor, kept in the
 * state store), and wrapping round at the end: `runs` consecutive runs re-read everyone, however
 * close together they run. Pure.
 *
 * The cursor is a userid rather than a position, so people joining or leaving between runs shift
 * nobody else's turn.
 */

/** The state store's name for the sweep's cursor. */
export const DETAIL_SWEEP_CURSOR = 'detail-sweep';

export interface SweepSlice {
  /** The people to re-read this run, in sweep order. */
  userids: string[];
  /** Where the next run starts after: the last of `userids` (the cursor unchanged when nobody is in scope). */
  cursor: string | undefined;
}

/**
 * The next slice of `userids` (in scope now; duplicates ignored) after `cursor`: ⌈n ÷ runs⌉ of
 * them in code-unit order of userid, wrapping round; everyone when there are fewer than that.
 */
export function sweepSlice(userids: Iterable<string>, cursor: string | undefined, runs: number): SweepSlice {
  if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError(`runs must be a positive whole number, not ${runs}`);
  const sorted = [...new Set(userids)].sort();
  if (sorted.length === 0) return { userids: [], cursor };
  const size = Math.ceil(sorted.length / runs);
  const after = cursor === undefined ? -1 : firstAfter(sorted, cursor);
  const start = after === -1 ? 0 : after;
  const slice = Array.from({ length: size }, (_, i) => sorted[(start + i) % sorted.length]!);
  return { userids: slice, cursor: slice[slice.length - 1] };
}

/** Index of the first id greater than `cursor` (binary search), or -1 when there is none. */
function firstAfter(sorted: readonly string[], cursor: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= cursor) lo = mid + 1;
    else hi = mid;
  }
  return lo === sorted.length ? -1 : lo;
}
