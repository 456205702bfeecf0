import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileHistoryStore, historyFileFor } from '../../lib/local/file-history';
import { entry, historyStoreContract, T0, TTL_DAYS } from '../history/contract';

historyStoreContract('FileHistoryStore in memory', async () => {
  const clock = { t: T0 };
  return { store: new FileHistoryStore(undefined, { ttlDays: TTL_DAYS, clock: { now: () => clock.t } }), clock };
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'history-'));
  dirs.push(dir);
  return join(dir, 'state.history.jsonl');
}

historyStoreContract('FileHistoryStore on a file', async () => {
  const clock = { t: T0 };
  return { store: new FileHistoryStore(tempFile(), { ttlDays: TTL_DAYS, clock: { now: () => clock.t } }), clock };
});

describe('FileHistoryStore specifics', () => {
  const at = (t: number) => ({ now: () => t });

  it('lives beside the state file', () => {
    expect(historyFileFor('.data/state.json')).toBe('.data/state.history.jsonl');
    expect(historyFileFor('var/sync/state')).toBe('var/sync/state.history.jsonl');
  });

  it('reads back after a restart, skipping a line cut short by a crash', async () => {
    const path = tempFile();
    const first = new FileHistoryStore(path, { ttlDays: TTL_DAYS, clock: at(T0) });
    await first.append(entry('u', T0, { result: 'created' }));
    await first.append(entry('u', T0 + 1000, { result: 'updated' }));
    appendFileSync(path, '{"kind":"user","id":"u","at":"2026-03-01T08:0');
    const again = new FileHistoryStore(path, { ttlDays: TTL_DAYS, clock: at(T0 + 2000) });
    expect((await again.history('user', 'u')).map((i) => i.result)).toEqual(['updated', 'created']);
    // The load rewrites the file without the cut line, in the background: done before the folder goes.
    await again.settled();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('drops expired items when loading and rewrites the file without them', async () => {
    const path = tempFile();
    const first = new FileHistoryStore(path, { ttlDays: TTL_DAYS, clock: at(T0) });
    await first.append(entry('old', T0));
    await first.append(entry('new', T0 + 9 * 86_400_000));
    const later = T0 + TTL_DAYS * 86_400_000 + 1000;
    const again = new FileHistoryStore(path, { ttlDays: TTL_DAYS, clock: at(later) });
    expect(await again.history('user', 'old')).toEqual([]);
    await again.append(entry('new', later));
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(['new', 'new']);
  });

  it('fails naming the file when it cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'history-'));
    dirs.push(dir);
    expect(() => new FileHistoryStore(dir, { ttlDays: TTL_DAYS })).toThrow(dir);
  });

  it('keeps nothing on disk in memory-only mode, and a bad line never stops the load', async () => {
    const path = tempFile();
    writeFileSync(path, 'not json\n{"kind":"team","id":"x"}\n');
    const store = new FileHistoryStore(path, { ttlDays: TTL_DAYS, clock: at(T0) });
    expect(await store.history('user', 'x')).toEqual([]);
  });
});
