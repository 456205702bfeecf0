/**
 * The audit history of one user or department: one item per outcome of syncing it, kept in the
 * state store (DynamoDB in AWS, beside the embedded store locally) until its TTL expires.
 *
 * An item names which fields changed, never their values: names, mobiles and emails are personal
 * data, and the history is read by whoever operates the service.
 */
import type { EntityKind } from '../ports';
import type { SyncResult } from '../sync/outcome';
import type { Trigger } from '../trail/trail';

/**
 * What happened: written (created, updated, disabled, deleted), nothing to write (unchanged),
 * not the sync's to touch (skipped: not owned, out of scope, SYNC_ON_LEAVE=ignore), refused for
 * good (failed: recorded, not retried until the entity changes) or to be tried again (retry).
 */
export type HistoryResult = 'created' | 'updated' | 'disabled' | 'deleted' | 'unchanged' | 'skipped' | 'failed' | 'retry';

/** Results that wrote to WeCom. */
export const WRITE_RESULTS: ReadonlySet<HistoryResult> = new Set(['created', 'updated', 'disabled', 'deleted']);

/** One item as `npm run history` and `GET /history/…` show it. */
export interface HistoryItem {
  /** ISO 8601. */
  at: string;
  trigger: Trigger;
  correlationId: string;
  result: HistoryResult;
  /** WeCom field names the write changed (`name`, `department`, …), sorted; never values. */
  changedFields: string[];
  errcode?: number;
}

/** An item and the entity it belongs to. */
export interface HistoryEntry extends HistoryItem {
  kind: EntityKind;
  id: string;
}

export interface HistoryStore {
  /** Keeps an item (until the store's TTL). */
  append(entry: HistoryEntry): Promise<void>;
  /** One entity's items, newest first, at most `limit` (one query on its key, never a scan). */
  history(kind: EntityKind, id: string, limit?: number): Promise<HistoryItem[]>;
}

export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 1000;

/** How a sync outcome reads in the history. */
export function historyResultOf(result: SyncResult): HistoryResult {
  switch (result) {
    case 'created':
    case 'updated':
    case 'disabled':
    case 'deleted':
    case 'unchanged':
    case 'failed':
      return result;
    // Adopting is the update of a WeCom object that already had the id (design rule 4).
    case 'adopted':
      return 'updated';
    case 'ignored':
    case 'out_of_scope':
      return 'skipped';
    // Throttled until its invocation's time ran out: it will be tried again from the queue.
    case 'requeued':
      return 'retry';
  }
}

/** Epoch seconds when an item written at `atMs` expires (DynamoDB's TTL attribute takes seconds). */
export function expiryOf(atMs: number, ttlDays: number): number {
  return Math.floor(atMs / 1000) + ttlDays * 86_400;
}
