/**
 * The state writes made while one entity is synced, noted by the state book (entity-state.ts) as
 * they happen: the first record each entity had and the last one written. From them the audit
 * tells which fields changed, and what happened to entities written on the way (a department a
 * user's sync created, a leaver that gave a rehire its mobile), which have no outcome of their own.
 *
 * Carried by AsyncLocalStorage: each EntitySync entry point observes its own writes; a nested
 * entry point (syncing a department on the way) observes, and records, its own.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityKind, EntityState } from '../ports';

export interface ObservedWrite {
  kind: EntityKind;
  id: string;
  /** The record before the first write observed (undefined: none existed). */
  before: EntityState | undefined;
  /** The record as last written. */
  after: EntityState;
}

export type ObservedWrites = Map<string, ObservedWrite>;

const storage = new AsyncLocalStorage<ObservedWrites>();

/** Runs `fn`, noting into `writes` every state write made under it (outside nested observers). */
export function observeWrites<T>(writes: ObservedWrites, fn: () => Promise<T>): Promise<T> {
  return storage.run(writes, fn);
}

/** Called by the state book after each write: `before` is the record the write replaced. */
export function noteStateWrite(before: EntityState | undefined, after: EntityState): void {
  const writes = storage.getStore();
  if (!writes) return;
  const key = `${after.kind}#${after.id}`;
  const seen = writes.get(key);
  if (seen) seen.after = after;
  else writes.set(key, { kind: after.kind, id: after.id, before, after });
}
