/**
 * What the store remembers of a write, to tell whether the next one would change anything: a
 * hash of the payload in a canonical form. Pure.
 */
import { createHash } from 'node:crypto';
import type { WeComDeptPayload } from '../ports';

/**
 * SHA-256 (hex) of a canonical JSON form: object keys sorted at every depth, `undefined`
 * properties left out (as JSON.stringify and the DynamoDB store do), array order kept. The same
 * payload therefore hashes the same whatever order its keys were built in, and a payload read
 * back from the store hashes like the one that was written.
 */
export function payloadHash(payload: object): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

/**
 * What is compared to decide whether a department must be written: its name and parent, which
 * every reader of DingTalk has. Not the id, which WeCom may have assigned, and not the order,
 * which `department/get` carries but the reconcile's `listsub` does not: see `deptOrderChanged`.
 * (Users hash their whole mapped payload.)
 */
export function deptPayloadHash(payload: WeComDeptPayload): string {
  return payloadHash({ name: payload.name, parentid: payload.parentid });
}

/**
 * Whether a department's order must be written: only when the reader had the order (the worker's
 * `department/get`) and it differs from the one last written. A reader without it (the
 * reconcile's `listsub`) neither compares nor sends it, so it can neither undo an order an event
 * wrote nor flip-flop with it.
 */
export function deptOrderChanged(lastWritten: WeComDeptPayload | undefined, payload: WeComDeptPayload): boolean {
  // Nothing written yet (a create that failed): the hash alone decides whether to try again.
  return lastWritten !== undefined && payload.order !== undefined && lastWritten.order !== payload.order;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') throw new TypeError('canonicalJson: bigint values have no JSON form');
    // undefined / functions / symbols only reach here inside arrays, where JSON writes null.
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((k) => {
      const v = (value as Record<string, unknown>)[k];
      return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
    })
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}
