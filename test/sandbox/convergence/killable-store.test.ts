/**
 * A worker that dies (lib/sandbox/convergence/killable-store.ts): its view of the state store
 * stops answering after the given number of calls; the store itself lives on.
 */
import { describe, expect, it } from 'vitest';
import { FileStateStore } from '../../../lib/local/file-store';
import { killableStore, WorkerDiedError } from '../../../lib/sandbox/convergence/killable-store';

describe('killableStore', () => {
  it('answers until told to die, then after that many more calls refuses every one; the store itself is untouched', async () => {
    const store = new FileStateStore(undefined);
    const worker = killableStore(store);
    const record = { kind: 'user' as const, id: 'p001', owned: true, status: 'synced' as const, updatedAt: 1 };
    await worker.store.put(record);
    worker.dieAfter(1);
    expect(await worker.store.get('user', 'p001')).toMatchObject({ version: 1 });
    expect(worker.died).toBe(false);
    await expect(worker.store.acquireLease('user', 'p001', 'w', 90_000, 1)).rejects.toBeInstanceOf(WorkerDiedError);
    await expect(worker.store.put({ ...record, status: 'failed' })).rejects.toBeInstanceOf(WorkerDiedError);
    expect(await store.get('user', 'p001')).toMatchObject({ status: 'synced', version: 1 });
    expect(await store.acquireLease('user', 'p001', 'next', 90_000, 1)).toBe(true);
    expect(worker.died).toBe(true);
  });
});
