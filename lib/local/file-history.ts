/**
 * Each entity's history for local runs, the embedded store's counterpart of the DynamoDB
 * history (lib/aws/dynamo-history.ts): the same items, the same TTL, indexed by entity in memory
 * so that reading one entity's history touches only its own items.
 *
 * Kept in a file beside the state file (`.data/state.json` → `.data/state.history.jsonl`), one
 * JSON line per item, appended in order; `undefined` keeps it in memory only (the sandbox, tests).
 * Appending never rewrites what is there, so a crash costs at most the line being written: a line
 * that does not read back (cut short) is skipped when loading. Items past their TTL are dropped
 * when loading, and the file is rewritten without them (atomically, as the state file is).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { appendFile, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DEFAULT_HISTORY_LIMIT, expiryOf, type HistoryEntry, type HistoryItem, type HistoryStore } from '../history/history';
import { type Clock, type EntityKind, systemClock } from '../ports';

type StoredItem = HistoryEntry & { expiresAt: number };

/** The history file that goes with a state file. */
export function historyFileFor(stateFile: string): string {
  return stateFile.endsWith('.json') ? `${stateFile.slice(0, -'.json'.length)}.history.jsonl` : `${stateFile}.history.jsonl`;
}

export class FileHistoryStore implements HistoryStore {
  private readonly byEntity = new Map<string, StoredItem[]>();
  private readonly clock: Clock;
  /** Appends run one after another, in the order made. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string | undefined,
    private readonly opts: { ttlDays: number; clock?: Clock },
  ) {
    this.clock = opts.clock ?? systemClock;
    if (path !== undefined) this.load(path);
  }

  async append(entry: HistoryEntry): Promise<void> {
    const item: StoredItem = { ...entry, changedFields: [...entry.changedFields], expiresAt: expiryOf(Date.parse(entry.at), this.opts.ttlDays) };
    this.keep(item);
    const path = this.path;
    if (path === undefined) return;
    const line = `${JSON.stringify(item)}\n`;
    const write = this.tail.catch(() => undefined).then(() => appendTo(path, line));
    this.tail = write;
    await write;
  }

  /**
   * Resolves once every write started so far is done (the rewrite a load may start included):
   * before the file or its folder is removed, or the process ends.
   */
  async settled(): Promise<void> {
    await this.tail.catch(() => undefined);
  }

  async history(kind: EntityKind, id: string, limit = DEFAULT_HISTORY_LIMIT): Promise<HistoryItem[]> {
    const now = Math.floor(this.clock.now() / 1000);
    const items = this.byEntity.get(`${kind}#${id}`) ?? [];
    const out: HistoryItem[] = [];
    // Kept in order of writing, which is time order: newest last.
    for (let i = items.length - 1; i >= 0 && out.length < limit; i--) {
      const { kind: _k, id: _i, expiresAt, ...item } = items[i]!;
      if (expiresAt > now) out.push(structuredClone(item));
    }
    return out;
  }

  private keep(item: StoredItem): void {
    const key = `${item.kind}#${item.id}`;
    const list = this.byEntity.get(key);
    if (list) list.push(item);
    else this.byEntity.set(key, [item]);
  }

  private load(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`history file ${path} cannot be read: ${(e as Error).message}`);
    }
    const now = Math.floor(this.clock.now() / 1000);
    let dropped = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const item = parseItem(line);
      if (!item || item.expiresAt <= now) {
        dropped++;
        continue;
      }
      this.keep(item);
    }
    if (dropped > 0) this.tail = this.rewrite(path);
  }

  /** The file without what was dropped: written aside, then renamed over it. */
  private async rewrite(path: string): Promise<void> {
    const items = [...this.byEntity.values()].flat().sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const temp = `${path}.${process.pid}.tmp`;
    try {
      const file = await open(temp, 'w');
      try {
        await file.writeFile(items.map((i) => `${JSON.stringify(i)}\n`).join(''), 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
    } catch {
      // Only a cleanup: the expired lines stay in the file and are skipped again next time.
      await rm(temp, { force: true }).catch(() => undefined);
    }
  }
}

async function appendTo(path: string, line: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await appendFile(path, line, 'utf8');
}

function parseItem(line: string): StoredItem | undefined {
  try {
    const o = JSON.parse(line) as StoredItem;
    const valid =
      (o.kind === 'user' || o.kind === 'dept') &&
      typeof o.id === 'string' &&
      typeof o.at === 'string' &&
      typeof o.expiresAt === 'number' &&
      typeof o.result === 'string' &&
      Array.isArray(o.changedFields);
    return valid ? o : undefined;
  } catch {
    return undefined;
  }
}
