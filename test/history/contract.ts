/**
 * The HistoryStore contract (lib/history/history.ts), run against the DynamoDB history on
 * dynalite and the embedded file history: each test gets a fresh, empty store and a clock it moves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryEntry, HistoryStore } from '../../lib/history/history';

export interface HistoryUnderTest {
  store: HistoryStore;
  /** What the store's clock says; tests move it to pass the TTL. */
  clock: { t: number };
  cleanup?: () => Promise<void>;
}

export const T0 = Date.parse('2026-03-01T08:00:00.000Z');

export function entry(id: string, at: number, over: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    kind: 'user',
    id,
    at: new Date(at).toISOString(),
    trigger: { source: 'push', eventType: 'user_modify_org', eventTime: new Date(at - 1000).toISOString() },
    correlationId: `c-${at}`,
    result: 'updated',
    changedFields: ['name'],
    ...over,
  };
}

/** The stores are made with a TTL of 10 days. */
export const TTL_DAYS = 10;

export function historyStoreContract(name: string, make: () => Promise<HistoryUnderTest>): void {
  describe(`HistoryStore contract: ${name}`, () => {
    let current: HistoryUnderTest | undefined;
    const fresh = async () => {
      current = await make();
      current.clock.t = T0;
      return current;
    };
    afterEach(async () => {
      await current?.cleanup?.();
      current = undefined;
    });

    it('gives one entity’s items newest first, exactly as appended (no entity, no TTL)', async () => {
      const { store } = await fresh();
      const a = entry('zhangsan', T0, { result: 'created', changedFields: ['department', 'mobile', 'name'] });
      const b = entry('zhangsan', T0 + 60_000, { result: 'failed', changedFields: [], errcode: 60104 });
      const c = entry('zhangsan', T0 + 120_000, {
        result: 'updated',
        trigger: { source: 'reconcile', runId: 'run-1' },
        correlationId: 'run-1',
      });
      for (const e of [a, b, c]) await store.append(e);
      const strip = ({ kind: _k, id: _i, ...item }: HistoryEntry) => item;
      expect(await store.history('user', 'zhangsan')).toEqual([strip(c), strip(b), strip(a)]);
    });

    it('keeps entities apart: another user, a department with the same id, an id that prefixes another', async () => {
      const { store } = await fresh();
      await store.append(entry('1', T0));
      await store.append(entry('1', T0 + 1, { kind: 'dept', result: 'created' }));
      await store.append(entry('1#2', T0 + 2));
      await store.append(entry('12', T0 + 3));
      expect((await store.history('user', '1')).map((i) => i.at)).toEqual([new Date(T0).toISOString()]);
      expect((await store.history('dept', '1')).map((i) => i.result)).toEqual(['created']);
      expect(await store.history('user', '1#2')).toHaveLength(1);
      expect(await store.history('user', 'nobody')).toEqual([]);
    });

    it('returns at most `limit` items, the newest', async () => {
      const { store } = await fresh();
      for (let i = 0; i < 7; i++) await store.append(entry('u', T0 + i * 1000, { correlationId: `c${i}` }));
      expect((await store.history('user', 'u', 3)).map((i) => i.correlationId)).toEqual(['c6', 'c5', 'c4']);
    });

    it('keeps two items written in the same millisecond', async () => {
      const { store } = await fresh();
      await store.append(entry('u', T0, { result: 'retry' }));
      await store.append(entry('u', T0, { result: 'updated' }));
      expect((await store.history('user', 'u')).map((i) => i.result).sort()).toEqual(['retry', 'updated']);
    });

    it('stops returning items once their TTL has passed', async () => {
      const h = await fresh();
      await h.store.append(entry('u', T0));
      await h.store.append(entry('u', T0 + 5 * 86_400_000));
      h.clock.t = T0 + TTL_DAYS * 86_400_000 + 1000;
      expect((await h.store.history('user', 'u')).map((i) => i.at)).toEqual([new Date(T0 + 5 * 86_400_000).toISOString()]);
    });
  });
}
