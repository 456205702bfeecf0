/**
 * A view of a state store with some methods replaced: another worker's view of the same store,
 * whose calls a test can hold back or interleave with someone else's (a race made to happen).
 */
import type { EntityKind, StateStore } from '../../lib/ports';

export function viewOf(store: StateStore, over: Partial<StateStore>): StateStore {
  return new Proxy(store, {
    get: (target, prop, receiver) => (prop in over ? over[prop as keyof StateStore] : Reflect.get(target, prop, receiver)),
  });
}

/**
 * Makes `store` answer the first read of one record with nothing, as a read made just before
 * another worker's save would; returns whether that read has happened.
 */
export function missFirstRead(store: StateStore, kind: EntityKind, id: string): () => boolean {
  const get = store.get.bind(store);
  let missed = false;
  store.get = async (k, i) => {
    if (k === kind && i === id && !missed) {
      missed = true;
      return undefined;
    }
    return get(k, i);
  };
  return () => missed;
}
