/**
 * A view of a state store with some methods replaced: another worker's view of the same store,
 * whose calls a test can hold back or interleave with someone else's (a race made to happen).
 */
import type { StateStore } from '../../lib/ports';

export function viewOf(store: StateStore, over: Partial<StateStore>): StateStore {
  return new Proxy(store, {
    get: (target, prop, receiver) => (prop in over ? over[prop as keyof StateStore] : Reflect.get(target, prop, receiver)),
  });
}
