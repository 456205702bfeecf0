/**
 * A fault policy (faults.ts) that gives a fixed share of a simulator's calls a transient fault,
 * chosen by a seed: the convergence property's "20 % of WeCom calls fail", reproducible from the
 * property's seed.
 *
 * Each decision is a hash of the seed, the call's content (API, query without the access token,
 * body) and how many times that same content was seen before. So one scenario gets the same
 * faults whatever order unrelated calls interleave in, and a retried call draws again.
 */
import { createHash } from 'node:crypto';
import { WECOM_ERR } from '../wecom/errors';
import type { FaultCall, FaultPolicy, InjectedFault } from './faults';

/**
 * What WeCom documents as worth retrying (-1 system busy, 45009 frequency limit) and what the
 * network adds: a 5xx from a gateway, a connection lost before WeCom acted, and a call that timed
 * out after WeCom had acted on it.
 */
export const WECOM_TRANSIENT_FAULTS: readonly InjectedFault[] = [
  { kind: 'errcode', errcode: WECOM_ERR.systemBusy },
  { kind: 'errcode', errcode: WECOM_ERR.rateLimited },
  { kind: 'http', status: 502 },
  { kind: 'http', status: 503 },
  { kind: 'drop' },
  { kind: 'dropAfter' },
];

export interface RandomFaultOptions {
  seed: number;
  /** Share of calls that get a fault, from 0 to 1. */
  rate: number;
  /** The faults to choose from, each equally likely. */
  faults: readonly InjectedFault[];
  /** Which APIs may fail; default every one but `gettoken` (a token is fetched once per run). */
  apis?: (api: string) => boolean;
}

export interface RandomFaults {
  /** For `setFaultPolicy`. */
  policy: FaultPolicy;
  /** Faults injected so far, per label (`errcode -1`, `http 502`, `drop`, `dropAfter`). */
  readonly injected: Record<string, number>;
  /** Calls the policy was asked about. */
  readonly calls: number;
}

export function randomFaults(opts: RandomFaultOptions): RandomFaults {
  const { seed, rate, faults } = opts;
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`fault rate must be between 0 and 1, got ${rate}`);
  if (rate > 0 && faults.length === 0) throw new RangeError('a fault rate above 0 needs at least one fault to inject');
  const mayFail = opts.apis ?? ((api: string) => api !== 'gettoken');
  const seen = new Map<string, number>();
  const injected: Record<string, number> = {};
  let calls = 0;
  const policy: FaultPolicy = (call) => {
    calls++;
    if (!mayFail(call.api)) return undefined;
    const content = contentOf(call);
    const occurrence = seen.get(content) ?? 0;
    seen.set(content, occurrence + 1);
    const [draw, pick] = uniforms(`${seed}\u0000${occurrence}\u0000${content}`);
    if (draw >= rate) return undefined;
    const fault = faults[Math.floor(pick * faults.length)]!;
    const label = labelOf(fault);
    injected[label] = (injected[label] ?? 0) + 1;
    return fault;
  };
  return {
    policy,
    injected,
    get calls() {
      return calls;
    },
  };
}

/** A short name for a fault, for counts and reports. */
export function labelOf(fault: InjectedFault): string {
  if (fault.kind === 'errcode') return `errcode ${fault.errcode}`;
  if (fault.kind === 'http') return `http ${fault.status}`;
  return fault.kind;
}

function contentOf(call: FaultCall): string {
  const query = [...call.query].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${call.api}\u0000${new URLSearchParams(query).toString()}\u0000${call.body}`;
}

/** Two independent numbers in [0, 1) from a hash of `key`. */
function uniforms(key: string): [number, number] {
  const digest = createHash('sha256').update(key).digest();
  return [digest.readUInt32BE(0) / 2 ** 32, digest.readUInt32BE(4) / 2 ** 32];
}
