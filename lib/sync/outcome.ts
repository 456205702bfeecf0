/**
 * What syncing one entity did, as the worker logs it and the reconcile counts it. Shared by the
 * user and department sync; `EntitySync` (entity.ts) re-exports the types.
 */
import type { EntityKind, EntityState } from '../ports';

export type SyncResult =
  | 'created'
  | 'updated'
  | 'adopted'
  | 'unchanged'
  | 'disabled'
  | 'deleted'
  | 'ignored'
  | 'out_of_scope'
  | 'failed'
  /** Throttled until the invocation's time ran out: sent back to the queue as a new message (throttle-requeue.ts). */
  | 'requeued';

/** Something done to another entity on the way that an operator should hear of (see RunReport.notices). */
export interface Notice {
  kind: EntityKind;
  id: string;
  message: string;
}

export interface SyncOutcome {
  kind: EntityKind;
  id: string;
  result: SyncResult;
  wecomId?: string;
  errcode?: number;
  message?: string;
  notices?: Notice[];
  /** A user written without their DingTalk manager, who could not lead yet (see EntityState.leaderWithheld). */
  leaderWithheld?: string;
}

/**
 * A user written twice in one sync (`second` adds the manager the first write left out): what the
 * two did together. The first's create or adoption stays the result unless the second failed,
 * and neither's notices are lost.
 */
export function rewritten(first: SyncOutcome, second: SyncOutcome): SyncOutcome {
  const outcome: SyncOutcome = { ...second };
  if (second.result !== 'failed' && (first.result === 'created' || first.result === 'adopted')) outcome.result = first.result;
  const notices = [...(first.notices ?? []), ...(second.notices ?? [])];
  if (notices.length) outcome.notices = notices;
  return outcome;
}

/**
 * `ifVersion` callers (the reconcile) read DingTalk before someone else — the worker, on a newer
 * event — wrote this entity: that write came from a newer read, so it stands.
 */
export function changedSinceRead(kind: EntityKind, id: string, state: EntityState | undefined): SyncOutcome {
  return { kind, id, result: 'unchanged', wecomId: state?.wecomId, message: 'written by the worker since this data was read; left as it is' };
}

/**
 * When `hash` is what was last written, or what last failed, there is nothing to write: the
 * outcome to return instead, else undefined. A permanent failure is not retried until the entity
 * changes (or a reconcile forces the write).
 */
export function sameAsLastWrite(kind: EntityKind, id: string, state: EntityState | undefined, hash: string): SyncOutcome | undefined {
  if (state?.payloadHash !== hash || (state.status !== 'synced' && state.status !== 'failed')) return undefined;
  return {
    kind,
    id,
    result: state.status === 'failed' ? 'failed' : 'unchanged',
    wecomId: state.wecomId,
    errcode: state.lastErrcode,
    message: state.lastError,
  };
}
