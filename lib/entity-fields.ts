/**
 * The fields of an entity record that may be absent, in one list both state stores persist: a
 * field added to EntityState and forgotten here would silently not survive a save.
 */
import type { EntityState } from './ports';

export const OPTIONAL_ENTITY_FIELDS = [
  'wecomId',
  'payloadHash',
  'payload',
  'lastErrcode',
  'lastError',
  'creating',
  'claim',
  'releases',
  'dingtalkParentId',
  'blockedBy',
  'waitingUsers',
  'waitingDepts',
  'blocking',
  'contactWaiters',
  'leaderWithheld',
] as const satisfies readonly (keyof EntityState)[];
