/**
 * Which fields of a WeCom payload a write changed, by name. Pure: no I/O. The values are
 * compared, never kept.
 */

type Payload = object | undefined;

/** Field names whose values differ between the payload before and after (absent = undefined), sorted. */
export function changedFields(before: Payload, after: Payload): string[] {
  if (after === undefined) return [];
  const a = (before ?? {}) as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((name) => !sameValue(a[name], b[name])).sort();
}

function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (x === undefined || y === undefined) return false;
  return JSON.stringify(x) === JSON.stringify(y);
}
