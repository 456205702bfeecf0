/**
 * The embedded state store for local runs (`npm start`, tests): the same contract as the DynamoDB
 * store, kept in memory and saved to one JSON file so that the state survives a restart.
 *
 * - Every check-and-change happens synchronously on the in-memory maps, so within one process the
 *   conditional semantics (ifVersion, locks) are exact: no await separates a check from its write.
 * - Each change then saves the whole state: written to a temporary file, flushed, renamed over the
 *   real one, so a crash leaves either the old file or the new one, never half of each.
 * - Saves run one at a time, in order; a change made while a save is already waiting joins that
 *   save instead of queueing another, so a burst of changes costs a couple of writes, not one
 *   each. A method resolves only once a save that includes its change is on disk.
 * - One process per file: two processes on the same file would overwrite each other's changes.
 *   So entity leases live in memory only: a lease cannot outlive the one process that uses them,
 *   and saving one would cost two file writes per entity synced.
 *
 * `new FileStateStore(undefined)` keeps everything in memory only (for tests).
 * A file that exists but cannot be read as a state file is an error at construction, naming the
 * file: starting empty would make the sync forget what it owns in WeCom.
 */

import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OPTIONAL_ENTITY_FIELDS } from '../entity-fields';
import { type EntityKind, type EntityState, type OutboxRecord, type RunReport, StaleStateError, type StateStore } from '../ports';
import { boundReport } from '../run-report';

const FORMAT = 'dingtalk-wecom-sync/state@1';

interface Lock {
  owner: string;
  expiresAt: number;
}

interface StateFile {
  format: typeof FORMAT;
  entities: EntityState[];
  locks: Record<string, Lock>;
  /** Absent in files written before the outbox existed. */
  outbox?: OutboxRecord[];
  report?: RunReport;
  /** Absent in files written before cursors existed. */
  cursors?: Record<string, string>;
}

const ENTITY_FIELDS = ['kind', 'id', 'owned', 'status', 'updatedAt', ...OPTIONAL_ENTITY_FIELDS] as const;

export class FileStateStore implements StateStore {
  private readonly entities = new Map<string, EntityState>();
  private readonly locks = new Map<string, Lock>();
  private readonly leases = new Map<string, Lock>();
  private readonly outbox = new Map<string, OutboxRecord>();
  private readonly cursors = new Map<string, string>();
  private report: RunReport | undefined;

  /** The last save in the chain (resolved or not); the next save starts after it. */
  private tail: Promise<void> = Promise.resolve();
  /** A save that has been queued but has not taken its snapshot yet: later changes join it. */
  private queued: Promise<void> | undefined;
  private tempCounter = 0;

  /** @param path JSON file to load from and save to (created on the first change); undefined = memory only. */
  constructor(readonly path: string | undefined) {
    if (path !== undefined) this.load(path);
  }

  async get(kind: EntityKind, id: string): Promise<EntityState | undefined> {
    const state = this.entities.get(entityKey(kind, id));
    return state && structuredClone(state);
  }

  // The methods below are async, but each checks and changes the maps before its first await.

  async put(state: Omit<EntityState, 'version'>, opts: { ifVersion?: number } = {}): Promise<EntityState> {
    const key = entityKey(state.kind, state.id);
    const current = this.entities.get(key);
    if (opts.ifVersion !== undefined && (current?.version ?? 0) !== opts.ifVersion) {
      throw new StaleStateError(state.kind, state.id);
    }
    const next = { ...pickEntityFields(state), version: (current?.version ?? 0) + 1 };
    this.entities.set(key, next);
    await this.saveOrUndo(() => {
      if (this.entities.get(key) !== next) return; // a later change owns the key now
      if (current) this.entities.set(key, current);
      else this.entities.delete(key);
    });
    return structuredClone(next);
  }

  async list(kind: EntityKind): Promise<EntityState[]> {
    return [...this.entities.values()].filter((s) => s.kind === kind).map((s) => structuredClone(s));
  }

  async awaitingLeader(manager: string): Promise<string[]> {
    return [...this.entities.values()]
      .filter((s) => s.kind === 'user' && s.status === 'synced' && s.leaderWithheld === manager)
      .sort((a, b) => a.updatedAt - b.updatedAt)
      .map((s) => s.id);
  }

  async acquireLock(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    const before = this.locks.get(name);
    if (!takeExpiring(this.locks, name, owner, ttlMs, now)) return false;
    const taken = this.locks.get(name);
    await this.saveOrUndo(() => {
      if (this.locks.get(name) !== taken) return;
      if (before) this.locks.set(name, before);
      else this.locks.delete(name);
    });
    return true;
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    if (this.locks.get(name)?.owner !== owner) return;
    this.locks.delete(name);
    await this.save();
  }

  /** Same rules as a lock; kept in memory only (see the top of this file). */
  async acquireLease(kind: EntityKind, id: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return takeExpiring(this.leases, entityKey(kind, id), owner, ttlMs, now);
  }

  async releaseLease(kind: EntityKind, id: string, owner: string): Promise<void> {
    const key = entityKey(kind, id);
    if (this.leases.get(key)?.owner === owner) this.leases.delete(key);
  }

  async putOutbox(record: OutboxRecord): Promise<void> {
    const before = this.outbox.get(record.id);
    const next = jsonCopy(record);
    this.outbox.set(record.id, next);
    await this.saveOrUndo(() => {
      if (this.outbox.get(record.id) !== next) return;
      if (before) this.outbox.set(record.id, before);
      else this.outbox.delete(record.id);
    });
  }

  async listOutbox(): Promise<OutboxRecord[]> {
    return [...this.outbox.values()].sort((a, b) => a.savedAt - b.savedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((r) => structuredClone(r));
  }

  async deleteOutbox(id: string): Promise<void> {
    if (!this.outbox.delete(id)) return;
    await this.save();
  }

  async putReport(report: RunReport): Promise<void> {
    // Bounded as on DynamoDB, so a report looks the same whichever store keeps it.
    this.report = jsonCopy(boundReport(report));
    await this.save();
  }

  async latestReport(): Promise<RunReport | undefined> {
    return this.report && structuredClone(this.report);
  }

  async getCursor(name: string): Promise<string | undefined> {
    return this.cursors.get(name);
  }

  async putCursor(name: string, value: string): Promise<void> {
    const before = this.cursors.get(name);
    this.cursors.set(name, value);
    await this.saveOrUndo(() => {
      if (this.cursors.get(name) !== value) return;
      if (before === undefined) this.cursors.delete(name);
      else this.cursors.set(name, before);
    });
  }

  // -------------------------------------------------------------------------------------------

  private load(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // first run: start empty
      throw new Error(`state file ${path} cannot be read: ${(e as Error).message}`);
    }
    const corrupt = (why: string): Error =>
      new Error(
        `state file ${path} is not a valid state file (${why}); restore it from a backup, or move it aside to start with an empty state (the sync then no longer knows which WeCom objects it owns)`,
      );
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw corrupt(`invalid JSON: ${(e as Error).message}`);
    }
    if (!isRecord(data) || data.format !== FORMAT) throw corrupt(`"format" is not ${JSON.stringify(FORMAT)}`);
    if (!Array.isArray(data.entities) || !isRecord(data.locks)) throw corrupt('"entities" must be an array and "locks" an object');
    for (const [i, e] of data.entities.entries()) {
      if (!isRecord(e) || (e.kind !== 'user' && e.kind !== 'dept') || typeof e.id !== 'string' || !Number.isInteger(e.version)) {
        throw corrupt(`entities[${i}] lacks a valid kind, id or version`);
      }
      this.entities.set(entityKey(e.kind, e.id), e as unknown as EntityState);
    }
    for (const [name, lock] of Object.entries(data.locks)) {
      if (!isRecord(lock) || typeof lock.owner !== 'string' || typeof lock.expiresAt !== 'number') throw corrupt(`lock ${JSON.stringify(name)} is malformed`);
      this.locks.set(name, { owner: lock.owner, expiresAt: lock.expiresAt });
    }
    if (data.outbox !== undefined) {
      if (!Array.isArray(data.outbox)) throw corrupt('"outbox" is not an array');
      for (const [i, r] of data.outbox.entries()) {
        if (!isRecord(r) || typeof r.id !== 'string' || typeof r.savedAt !== 'number' || !Array.isArray(r.messages)) {
          throw corrupt(`outbox[${i}] lacks a valid id, savedAt or messages`);
        }
        this.outbox.set(r.id, r as unknown as OutboxRecord);
      }
    }
    if (data.report !== undefined) {
      if (!isRecord(data.report)) throw corrupt('"report" is not an object');
      this.report = data.report as unknown as RunReport;
    }
    if (data.cursors !== undefined) {
      if (!isRecord(data.cursors) || Object.values(data.cursors).some((v) => typeof v !== 'string')) throw corrupt('"cursors" is not an object of strings');
      for (const [name, value] of Object.entries(data.cursors)) this.cursors.set(name, value as string);
    }
  }

  /**
   * Saves; when the save fails, `undo` takes the change back out of memory before the error
   * reaches the caller, so what the store answers never includes a write its caller was told
   * had failed (a claim that failed to save must not block the retry).
   */
  private async saveOrUndo(undo: () => void): Promise<void> {
    try {
      await this.save();
    } catch (e) {
      undo();
      throw e;
    }
  }

  /** Resolves once a save taken after the current in-memory change has reached the disk. */
  private save(): Promise<void> {
    const path = this.path;
    if (path === undefined) return Promise.resolve();
    if (this.queued) return this.queued;
    const previous = this.tail;
    const run = async (): Promise<void> => {
      // A failed earlier save has already been reported to its callers; this one tries again.
      await previous.catch(() => undefined);
      this.queued = undefined; // from here on, changes need a later save
      await this.writeAtomically(path, JSON.stringify(this.snapshot()));
    };
    const saving = run();
    this.queued = saving;
    this.tail = saving;
    return saving;
  }

  private snapshot(): StateFile {
    return {
      format: FORMAT,
      entities: [...this.entities.values()],
      locks: Object.fromEntries(this.locks),
      ...(this.outbox.size > 0 ? { outbox: [...this.outbox.values()] } : {}),
      ...(this.report ? { report: this.report } : {}),
      ...(this.cursors.size > 0 ? { cursors: Object.fromEntries(this.cursors) } : {}),
    };
  }

  private async writeAtomically(path: string, text: string): Promise<void> {
    const temp = `${path}.${process.pid}.${++this.tempCounter}.tmp`;
    try {
      mkdirSync(dirname(path), { recursive: true });
      const file = await open(temp, 'w');
      try {
        await file.writeFile(text, 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
    } catch (e) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw new Error(`could not save state file ${path}: ${(e as Error).message}`);
    }
  }
}

/** Free, expired (at `expiresAt` exactly it is expired) or already held by `owner` (renewal): take it. */
function takeExpiring(holds: Map<string, Lock>, key: string, owner: string, ttlMs: number, now: number): boolean {
  const held = holds.get(key);
  if (held && held.expiresAt > now && held.owner !== owner) return false;
  holds.set(key, { owner, expiresAt: now + ttlMs });
  return true;
}

function entityKey(kind: EntityKind, id: string): string {
  return `${kind}#${id}`;
}

/** Copies only EntityState fields (a caller may pass a record that still carries `version` or extras). */
function pickEntityFields(state: Omit<EntityState, 'version'>): Omit<EntityState, 'version'> {
  const out: Record<string, unknown> = {};
  for (const field of ENTITY_FIELDS) {
    if (state[field] !== undefined) out[field] = jsonCopy(state[field]);
  }
  return out as unknown as Omit<EntityState, 'version'>;
}

/**
 * A deep copy in the form the file will hold (undefined properties dropped, as the DynamoDB store
 * drops them too), so what `get` returns before and after a restart is the same.
 */
function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
