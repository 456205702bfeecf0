/**
 * The people a department that could not be created keeps waiting, on the embedded store.
 * (Their completion from the event flow runs against the simulators in user-placement.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { FileStateStore } from '../../lib/local/file-store';
import type { EntityState } from '../../lib/ports';
import { WaitingUsers } from '../../lib/sync/dept-waiting';
import { EntityStateBook } from '../../lib/sync/entity-state';
import type { SyncOutcome } from '../../lib/sync/outcome';

async function setup(dept: Partial<EntityState>) {
  const store = new FileStateStore(undefined);
  const states = new EntityStateBook({ store, clock: { now: () => 1 } });
  await store.put({ kind: 'dept', id: '4', owned: false, status: 'failed', updatedAt: 0, ...dept });
  const synced: string[] = [];
  let failFor: string | undefined;
  const syncUser = async (id: string): Promise<SyncOutcome> => {
    if (id === failFor) throw new Error('throttled');
    synced.push(id);
    return { kind: 'user', id, result: 'updated' };
  };
  const syncDept = async (id: number): Promise<SyncOutcome> => {
    synced.push(`dept ${id}`);
    return { kind: 'dept', id: String(id), result: 'created' };
  };
  return { store, states, synced, failOn: (id: string) => (failFor = id), waiting: (book = states) => new WaitingUsers({ states: book, syncUser, syncDept }) };
}

describe('WaitingUsers', () => {
  it('adds a user once, even when another worker adds theirs between the read and the save', async () => {
    const { store, states, waiting } = await setup({});
    let raced = false;
    const racing = Object.assign(Object.create(states) as EntityStateBook, {
      save: async (prev: EntityState | undefined, next: Omit<EntityState, 'version' | 'updatedAt'>) => {
        if (!raced) {
          raced = true;
          const now = (await store.get('dept', '4'))!;
          await store.put({ ...now, waitingUsers: ['wangwu'] }, { ifVersion: now.version });
        }
        return states.save(prev, next);
      },
    });
    await waiting(racing).add(4, 'lisi');
    expect((await store.get('dept', '4'))?.waitingUsers).toEqual(['wangwu', 'lisi']);
    await waiting().add(4, 'lisi');
    expect((await store.get('dept', '4'))?.waitingUsers).toEqual(['wangwu', 'lisi']);
  });

  it('syncs the waiting users once the department is synced, then forgets them', async () => {
    const { store, synced, waiting } = await setup({ status: 'synced', wecomId: '4', owned: true, waitingUsers: ['lisi', 'wangwu'] });
    await waiting().release(4);
    expect(synced).toEqual(['lisi', 'wangwu']);
    expect((await store.get('dept', '4'))?.waitingUsers).toBeUndefined();
  });

  it('releases nobody while the department is not synced', async () => {
    const { synced, waiting } = await setup({ waitingUsers: ['lisi'] });
    await waiting().release(4);
    expect(synced).toEqual([]);
  });

  it('keeps the list when a waiting user’s sync fails, for the retry', async () => {
    const { store, waiting, failOn } = await setup({ status: 'synced', wecomId: '4', owned: true, waitingUsers: ['lisi', 'wangwu'] });
    failOn('wangwu');
    await expect(waiting().release(4)).rejects.toThrow('throttled');
    expect((await store.get('dept', '4'))?.waitingUsers).toEqual(['lisi', 'wangwu']);
  });

  it('syncs the members, then the child departments, a department shed when it left the scope, once it is back', async () => {
    const { store, synced, waiting } = await setup({ status: 'synced', wecomId: '4', owned: true, waitingUsers: ['lisi'], waitingDepts: ['6'] });
    await waiting().release(4);
    expect(synced).toEqual(['lisi', 'dept 6']);
    const after = await store.get('dept', '4');
    expect([after?.waitingUsers, after?.waitingDepts]).toEqual([undefined, undefined]);
  });
});
