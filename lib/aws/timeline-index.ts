/**
 * The state table's one secondary index, `timeline`: a partition per timeline, items in time
 * order. Two kinds of item are in it:
 *
 * | timeline              | gpk                        | gsk                               | item in the table            |
 * |-----------------------|----------------------------|-----------------------------------|------------------------------|
 * | one entity's history  | `history#<kind>#<id>`      | `<at ISO>#<random>`               | a history item (TTL `ttl`)   |
 * | open failures         | `failures`                 | `<updatedAt ISO>#<kind>#<id>`     | an entity record, while `failed` |
 * | reports of a manager  | `awaiting-leader#<userid>` | `<updatedAt ISO>#<kind>#<id>`     | a `synced` user record whose last write withheld that manager |
 *
 * So one entity's history is one Query on its partition, newest first, and the open failures are
 * a Query too (a sparse partition: a record leaves it when it stops being `failed`); so are the
 * people waiting for a manager to lead (`leaderWithheld`), when that manager is written. None is a
 * Scan. Adding an index is an in-place update of the table (its key schema, which holds what the
 * sync owns, never changes).
 *
 * The projection carries what these three reads show and nothing else: no payload. The people
 * waiting for a manager need only the record's `id`.
 */
import type { GlobalSecondaryIndex } from '@aws-sdk/client-dynamodb';
import type { EntityKind, EntityState } from '../ports';

export const TIMELINE_INDEX = 'timeline';
export const TIMELINE_PK = 'gpk';
export const TIMELINE_SK = 'gsk';
/** DynamoDB's TTL attribute on history items: epoch seconds. */
export const TTL_ATTRIBUTE = 'ttl';
export const FAILURES_TIMELINE = 'failures';

const PROJECTED = [
  // history items
  'entityKind',
  'entityId',
  'at',
  'trigger',
  'correlationId',
  'result',
  'changedFields',
  'errcode',
  TTL_ATTRIBUTE,
  // failed entity records
  'kind',
  'id',
  'updatedAt',
  'lastErrcode',
  'lastError',
];

export const timelineIndexDefinition: GlobalSecondaryIndex = {
  IndexName: TIMELINE_INDEX,
  KeySchema: [
    { AttributeName: TIMELINE_PK, KeyType: 'HASH' },
    { AttributeName: TIMELINE_SK, KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: PROJECTED },
};

export function historyTimeline(kind: EntityKind, id: string): string {
  return `history#${kind}#${id}`;
}

function recordSortKey(updatedAt: number, kind: EntityKind, id: string): string {
  return `${new Date(updatedAt).toISOString()}#${kind}#${id}`;
}

export function awaitingLeaderTimeline(manager: string): string {
  return `awaiting-leader#${manager}`;
}

/** The timeline an entity record belongs to, by its status, if any: its index keys. */
export function entityTimeline(state: Pick<EntityState, 'kind' | 'id' | 'status' | 'updatedAt' | 'leaderWithheld'>): { gpk: string; gsk: string } | undefined {
  const gsk = recordSortKey(state.updatedAt, state.kind, state.id);
  if (state.status === 'failed') return { gpk: FAILURES_TIMELINE, gsk };
  if (state.status === 'synced' && state.leaderWithheld !== undefined) return { gpk: awaitingLeaderTimeline(state.leaderWithheld), gsk };
  return undefined;
}
