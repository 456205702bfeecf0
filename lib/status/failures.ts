/**
 * Open permanent failures: the entities whose record says `failed` now (a write WeCom refused
 * for good, an entity DingTalk will not show), newest first. Fixing the cause and the entity's
 * next change (or a reconcile) closes one.
 */
import { redactPersonalData } from '../personal-data';
import type { EntityKind, EntityState, StateStore } from '../ports';

export interface OpenFailure {
  kind: EntityKind;
  id: string;
  /** When the record was last written as failed, ISO 8601. */
  since: string;
  errcode?: number;
  /** The recorded error: the API and WeCom's or DingTalk's message, or what the mapping refused. */
  error?: string;
}

export interface OpenFailures {
  open: number;
  /** The newest `limit`, newest first. */
  items: OpenFailure[];
}

export interface FailureIndex {
  openFailures(limit: number): Promise<OpenFailures>;
}

/** How many of the newest failures the status shows. */
export const FAILURES_SHOWN = 20;

export function openFailureOf(state: Pick<EntityState, 'kind' | 'id' | 'updatedAt' | 'lastErrcode' | 'lastError'>): OpenFailure {
  const failure: OpenFailure = { kind: state.kind, id: state.id, since: new Date(state.updatedAt).toISOString() };
  if (state.lastErrcode !== undefined) failure.errcode = state.lastErrcode;
  // Masked again here: a record written before failures were masked may still quote a mobile.
  if (state.lastError !== undefined) failure.error = redactPersonalData(state.lastError);
  return failure;
}

/**
 * The failures from every record: for the embedded store, which holds them all in memory. The
 * DynamoDB store answers from an index instead (lib/aws/dynamo-history.ts).
 */
export function scanOpenFailures(store: Pick<StateStore, 'list'>): FailureIndex {
  return {
    async openFailures(limit) {
      const failed = [...(await store.list('user')), ...(await store.list('dept'))].filter((s) => s.status === 'failed');
      failed.sort((a, b) => b.updatedAt - a.updatedAt || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.id < b.id ? -1 : 1));
      return { open: failed.length, items: failed.slice(0, limit).map(openFailureOf) };
    },
  };
}
