import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStateStore } from '../../lib/local/file-store';
import { StaleStateError } from '../../lib/ports';
import { message, outboxRecord, report, stateStoreContract, userPayload, userState } from './contract';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'state-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

stateStoreContract('FileStateStore on a file', async () => ({ store: new FileStateStore(join(tempDir(), '.data', 'state.json')) }));
stateStoreContract('FileStateStore in memory', async () => ({ store: new FileStateStore(undefined) }));

describe('FileStateStore persistence', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = tempDir();
    path = join(dir, '.data', 'state.json');
  });

  it('starts empty when the file does not exist yet, and creates it on the first change', async () => {
    const store = new FileStateStore(path);
    expect(await store.list('user')).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    await store.put(userState('u1'));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ entities: [{ kind: 'user', id: 'u1', version: 1 }] });
  });

  it('gives a new store on the same file everything the old one wrote', async () => {
    const before = new FileStateStore(path);
    const user = userState('u1', { wecomId: 'u1', payloadHash: 'h1', payload: userPayload('u1') });
    await before.put(user);
    await before.put(user);
    await before.put({ kind: 'dept', id: '42', wecomId: '42', owned: true, status: 'synced', updatedAt: 3 });
    await before.acquireLock('reconcile', 'worker-1', 60_000, 1_000);
    await before.putReport(report('r7'));
    await before.putOutbox(outboxRecord('page-1', 5, [message('user', 'u9')]));
    await before.putCursor('detail-sweep', 'u1');

    const after = new FileStateStore(path);
    expect(await after.getCursor('detail-sweep')).toBe('u1');
    expect(await after.listOutbox()).toEqual([outboxRecord('page-1', 5, [message('user', 'u9')])]);
    expect(await after.get('user', 'u1')).toEqual({ ...user, version: 2 });
    expect(await after.list('dept')).toHaveLength(1);
    expect(await after.latestReport()).toEqual(report('r7'));
    expect(await after.acquireLock('reconcile', 'worker-2', 60_000, 2_000)).toBe(false);
    // Versions carry on from the file, so optimistic writes stay correct across the restart.
    await expect(after.put(user, { ifVersion: 1 })).rejects.toBeInstanceOf(StaleStateError);
    expect((await after.put(user, { ifVersion: 2 })).version).toBe(3);
  });

  it('reads a file written before the outbox existed', async () => {
    const file = join(dir, 'state.json');
    writeFileSync(file, '{"format":"dingtalk-wecom-sync/state@1","entities":[],"locks":{}}');
    expect(await new FileStateStore(file).listOutbox()).toEqual([]);
    expect(await new FileStateStore(file).getCursor('detail-sweep')).toBeUndefined();
  });

  it('keeps entity leases in memory only: they cannot outlive the process that took them', async () => {
    const before = new FileStateStore(path);
    await before.acquireLease('user', 'u1', 'worker-1', 60_000, 1_000);
    await before.put(userState('u2'));
    expect(await new FileStateStore(path).acquireLease('user', 'u1', 'worker-2', 60_000, 2_000)).toBe(true);
  });

  it('saves every one of many concurrent changes, and leaves no temporary file behind', async () => {
    const store = new FileStateStore(path);
    const ids = Array.from({ length: 300 }, (_, i) => `u${i}`);
    await Promise.all(ids.map((id) => store.put(userState(id))));
    await Promise.all(ids.slice(0, 100).map((id) => store.put(userState(id, { status: 'disabled' }), { ifVersion: 1 })));

    const reopened = new FileStateStore(path);
    const users = await reopened.list('user');
    expect(users).toHaveLength(300);
    expect(users.filter((u) => u.status === 'disabled' && u.version === 2)).toHaveLength(100);
    expect(readdirSync(join(dir, '.data'))).toEqual(['state.json']);
  });

  it('refuses a file that is not JSON, naming the file, instead of starting empty', () => {
    const file = join(dir, 'state.json');
    writeFileSync(file, '{"format":"dingtalk-wecom-sync/state@1","entities":[{"kind":"us');
    expect(() => new FileStateStore(file)).toThrow(/state file .*state\.json is not a valid state file \(invalid JSON/);
  });

  it.each([
    ['an empty file', ''],
    ['another JSON document', '{"hello":"world"}'],
    ['a JSON array', '[]'],
    ['entities without ids', '{"format":"dingtalk-wecom-sync/state@1","entities":[{"kind":"user","version":1}],"locks":{}}'],
    ['a malformed lock', '{"format":"dingtalk-wecom-sync/state@1","entities":[],"locks":{"reconcile":{"owner":1}}}'],
    ['an outbox that is not a list', '{"format":"dingtalk-wecom-sync/state@1","entities":[],"locks":{},"outbox":{}}'],
    ['an outbox record without messages', '{"format":"dingtalk-wecom-sync/state@1","entities":[],"locks":{},"outbox":[{"id":"p","savedAt":1}]}'],
    ['cursors that are not an object of strings', '{"format":"dingtalk-wecom-sync/state@1","entities":[],"locks":{},"cursors":{"detail-sweep":7}}'],
  ])('refuses %s', (_label, content) => {
    const file = join(dir, 'state.json');
    writeFileSync(file, content);
    expect(() => new FileStateStore(file)).toThrow(/is not a valid state file/);
    expect(readFileSync(file, 'utf8')).toBe(content); // and leaves it as it was
  });

  it('rejects a change that cannot be saved and forgets it, then saves again once the disk is writable', async () => {
    const sub = join(dir, 'sub');
    const store = new FileStateStore(join(sub, 'state.json'));
    writeFileSync(sub, ''); // a file where the directory should be
    await expect(store.put(userState('u1'))).rejects.toThrow(/could not save state file .*state\.json/);
    // The caller was told the write failed: the store must not answer as if it had succeeded
    // (a claim that failed to save would otherwise block every retry as "another worker").
    expect(await store.get('user', 'u1')).toBeUndefined();
    await expect(store.acquireLock('reconcile', 'run-1', 60_000, 0)).rejects.toThrow(/could not save state file/);

    await expect(store.putCursor('detail-sweep', 'u1')).rejects.toThrow(/could not save state file/);
    expect(await store.getCursor('detail-sweep')).toBeUndefined();

    rmSync(sub);
    // The lock whose save failed was never taken: another run may take it.
    expect(await store.acquireLock('reconcile', 'run-2', 60_000, 0)).toBe(true);
    await store.put(userState('u2'));
    const reopened = new FileStateStore(join(sub, 'state.json'));
    expect((await reopened.list('user')).map((u) => u.id).sort()).toEqual(['u2']);
  });
});
