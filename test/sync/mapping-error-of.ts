import { MappingError } from '../../lib/sync/mapping';

/** The MappingError `fn` throws; fails the test when it throws nothing or something else. */
export function mappingError(fn: () => unknown): MappingError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MappingError) return e;
    throw e;
  }
  throw new Error('expected a MappingError, nothing was thrown');
}
