/**
 * The state store on DynamoDB (WeCom will not let the contact-sync secret read details back, so the sync remembers what it wrote): what the sync wrote to WeCom, per entity, plus
 * the reconcile lock, the per-entity write leases, the failed-push outbox and the latest run report.
 *
 * Table layout: ONE table, partition key `pk` (string) only, no sort key, and one secondary index
 * (`timeline`, lib/aws/timeline-index.ts) for each entity's history, the open failures and the
 * people waiting for a manager to lead.
 *
 * | item              | pk                  | other attributes                                       |
 * |-------------------|---------------------|--------------------------------------------------------|
 * | user state        | `user#<userid>`     | kind='user', id, owned, status, updatedAt, version, …  |
 * | department state  | `dept#<dept id>`    | kind='dept', id, … (same as users)                     |
 * | named lock        | `lock#<name>`       | kind='lock', owner, expiresAt (epoch ms)               |
 * | entity lease      | `lease#<kind>#<id>` | kind='lease', owner, expiresAt (epoch ms)              |
 * | outbox record     | `outbox#<id>`       | kind='outbox', id, savedAt, messages (ChangeMessages)  |
 * | latest run report | `report#latest`     | kind='report', report (the RunReport as a map)          |
 * | cursor            | `cursor#<name>`     | kind='cursor', name, value (string)                    |
 * | history item      | `history#<kind>#<id>#<at>#<random>` | kind='history', entityKind, entityId, …  (lib/aws/dynamo-history.ts) |
 *
 * An entity record whose status is `failed` also carries the `timeline` index's keys (gpk
 * `failures`), so the open failures are one Query; a `synced` user whose last write withheld its
 * manager carries them too (gpk `awaiting-leader#<manager>`), so the people waiting for a manager
 * are one Query when that manager is written; any other record has none.
 *
 * Why pk only: every hot path (one changed user or department) is a single-item GetItem or
 * conditional write on a key spread across partitions. The only bulk read is `list(kind)`, done by
 * the reconcile a few times a day: a consistent Scan filtered on `kind`, following
 * LastEvaluatedKey page by page (1 MB each). For 10,000-30,000 entities of about 1 KB that is
 * 10-30 pages, a few seconds and well under a cent, so a GSI on `kind` (which would funnel every
 * write of a kind into one index partition and double the write cost) is not worth it.
 *
 * Only the latest run report is kept (CloudWatch logs hold the history).
 *
 * A lease costs two conditional writes per entity synced (a put, then a delete); a holder that
 * died leaves its item behind, tiny, and taken over once expired. The outbox is listed by the
 * same Scan filtered on `kind` as `list`, once per reconcile; it holds at most the failed-push
 * page the queue last refused, so it stays small.
 *
 * serverless.yml must declare the table exactly as `stateTableDefinition` below (key `pk`, type S,
 * HASH, PAY_PER_REQUEST); test/store/dynamo-store.test.ts creates its table from the same object.
 * The functions need dynamodb:GetItem, PutItem, UpdateItem, DeleteItem and Scan on it, and Query on its index.
 */

import { type CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { OPTIONAL_ENTITY_FIELDS } from '../entity-fields';
import { type EntityKind, type EntityState, type OutboxRecord, type RunReport, StaleStateError, type StateStore } from '../ports';
import { boundReport } from '../run-report';
import { awaitingLeaderTimeline, entityTimeline, TIMELINE_INDEX, TIMELINE_PK, TIMELINE_SK, timelineIndexDefinition } from './timeline-index';

/** Key schema, index and billing of the state table; serverless.yml must match it. */
export const stateTableDefinition: Required<Pick<CreateTableCommandInput, 'AttributeDefinitions' | 'KeySchema' | 'BillingMode' | 'GlobalSecondaryIndexes'>> = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: TIMELINE_PK, AttributeType: 'S' },
    { AttributeName: TIMELINE_SK, AttributeType: 'S' },
  ],
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  BillingMode: 'PAY_PER_REQUEST',
  GlobalSecondaryIndexes: [timelineIndexDefinition],
};

const REPORT_PK = 'report#latest';

/** Fields of EntityState the store writes besides `kind`, `id` and `version`, split by whether they may be absent. */
const REQUIRED_FIELDS = ['owned', 'status', 'updatedAt'] as const;

export interface DynamoStateStoreOptions {
  tableName: string;
  /** Defaults to a client configured from the environment (region, credentials), as in Lambda. */
  client?: DynamoDBClient;
}

export class DynamoStateStore implements StateStore {
  private readonly table: string;
  private readonly doc: DynamoDBDocumentClient;

  constructor(options: DynamoStateStoreOptions) {
    this.table = options.tableName;
    this.doc = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), {
      // Optional fields are simply absent; the payload may carry undefined properties too.
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async get(kind: EntityKind, id: string): Promise<EntityState | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: entityKey(kind, id) }, ConsistentRead: true }));
    return out.Item ? toEntityState(out.Item) : undefined;
  }

  /**
   * One UpdateItem, so the version increment is atomic even without `ifVersion`: SET the fields
   * present, REMOVE the optional ones absent (a put replaces the whole record, e.g. clears
   * `lastError`), ADD 1 to `version` (which starts it at 1). With `ifVersion` the same call is
   * conditional: 0 → the item must not exist, n → its version must be n.
   */
  async put(state: Omit<EntityState, 'version'>, opts: { ifVersion?: number } = {}): Promise<EntityState> {
    const names: Record<string, string> = { '#kind': 'kind', '#id': 'id', '#version': 'version' };
    const values: Record<string, unknown> = { ':kind': state.kind, ':id': state.id, ':one': 1 };
    const sets = ['#kind = :kind', '#id = :id'];
    const removes: string[] = [];
    for (const field of REQUIRED_FIELDS) {
      names[`#${field}`] = field;
      values[`:${field}`] = state[field];
      sets.push(`#${field} = :${field}`);
    }
    for (const field of OPTIONAL_ENTITY_FIELDS) {
      names[`#${field}`] = field;
      if (state[field] === undefined) {
        removes.push(`#${field}`);
      } else {
        values[`:${field}`] = state[field];
        sets.push(`#${field} = :${field}`);
      }
    }
    // A failed record is in the open-failures timeline, a synced one that withheld its manager in
    // that manager's; any other leaves both.
    names['#gpk'] = TIMELINE_PK;
    names['#gsk'] = TIMELINE_SK;
    const timeline = entityTimeline(state);
    if (timeline) {
      values[':gpk'] = timeline.gpk;
      values[':gsk'] = timeline.gsk;
      sets.push('#gpk = :gpk', '#gsk = :gsk');
    } else {
      removes.push('#gpk', '#gsk');
    }
    let condition: string | undefined;
    if (opts.ifVersion === 0) {
      condition = 'attribute_not_exists(pk)';
    } else if (opts.ifVersion !== undefined) {
      condition = '#version = :expected';
      values[':expected'] = opts.ifVersion;
    }
    const update = `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''} ADD #version :one`;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: entityKey(state.kind, state.id) },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!out.Attributes) throw new Error(`DynamoDB returned no attributes after writing ${state.kind} ${state.id}`);
      return toEntityState(out.Attributes);
    } catch (e) {
      if (isConditionFailure(e)) throw new StaleStateError(state.kind, state.id);
      throw e;
    }
  }

  async list(kind: EntityKind): Promise<EntityState[]> {
    return (await this.scanKind(kind)).map(toEntityState);
  }

  /** One Query on the manager's timeline (eventually consistent, as every index read is). */
  async awaitingLeader(manager: string): Promise<string[]> {
    const ids: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: TIMELINE_INDEX,
          KeyConditionExpression: '#gpk = :gpk',
          ExpressionAttributeNames: { '#gpk': TIMELINE_PK },
          ExpressionAttributeValues: { ':gpk': awaitingLeaderTimeline(manager) },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) ids.push(item.id as string);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return ids;
  }

  async acquireLock(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return this.takeExpiring({ pk: lockKey(name), kind: 'lock', name, owner, expiresAt: now + ttlMs }, now);
  }

  releaseLock(name: string, owner: string): Promise<void> {
    return this.releaseOwned(lockKey(name), owner);
  }

  async acquireLease(kind: EntityKind, id: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return this.takeExpiring({ pk: leaseKey(kind, id), kind: 'lease', owner, expiresAt: now + ttlMs }, now);
  }

  releaseLease(kind: EntityKind, id: string, owner: string): Promise<void> {
    return this.releaseOwned(leaseKey(kind, id), owner);
  }

  async putOutbox(record: OutboxRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: outboxKey(record.id), kind: 'outbox', id: record.id, savedAt: record.savedAt, messages: record.messages },
      }),
    );
  }

  async listOutbox(): Promise<OutboxRecord[]> {
    const records = (await this.scanKind('outbox')).map(
      (item): OutboxRecord => ({
        id: item.id as string,
        savedAt: item.savedAt as number,
        messages: item.messages as OutboxRecord['messages'],
      }),
    );
    return records.sort((a, b) => a.savedAt - b.savedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async deleteOutbox(id: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: outboxKey(id) } }));
  }

  async putReport(report: RunReport): Promise<void> {
    // An item holds at most 400 KB: a run with thousands of failures keeps the first of them.
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: REPORT_PK, kind: 'report', report: boundReport(report) } }));
  }

  async latestReport(): Promise<RunReport | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: REPORT_PK }, ConsistentRead: true }));
    return out.Item?.report as RunReport | undefined;
  }

  async getCursor(name: string): Promise<string | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: cursorKey(name) }, ConsistentRead: true }));
    return typeof out.Item?.value === 'string' ? out.Item.value : undefined;
  }

  async putCursor(name: string, value: string): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: cursorKey(name), kind: 'cursor', name, value } }));
  }

  /** A conditional put of a lock or lease item: succeeds when there is none, it has expired, or `owner` already holds it (renewal). */
  private async takeExpiring(item: { pk: string; owner: string; expiresAt: number } & Record<string, unknown>, now: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':owner': item.owner },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Deletes a lock or lease only if `owner` holds it: one whose hold expired and was taken over cannot free the new holder's. */
  private async releaseOwned(pk: string, owner: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  /** Every item of one `kind`: a consistent Scan, page by page. */
  private async scanKind(kind: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: '#kind = :kind',
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: { ':kind': kind },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...(page.Items ?? []));
      // A page can hold no matching item and still not be the last one: only the key tells.
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }
}

function entityKey(kind: EntityKind, id: string): string {
  return `${kind}#${id}`;
}

function lockKey(name: string): string {
  return `lock#${name}`;
}

function leaseKey(kind: EntityKind, id: string): string {
  return `lease#${kind}#${id}`;
}

function outboxKey(id: string): string {
  return `outbox#${id}`;
}

function cursorKey(name: string): string {
  return `cursor#${name}`;
}

function isConditionFailure(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}

/** Picks the EntityState fields out of an item (dropping `pk`), leaving absent fields absent. */
function toEntityState(item: Record<string, unknown>): EntityState {
  const state: Record<string, unknown> = { kind: item.kind, id: item.id, version: item.version };
  for (const field of [...REQUIRED_FIELDS, ...OPTIONAL_ENTITY_FIELDS]) {
    if (item[field] !== undefined) state[field] = item[field];
  }
  return state as unknown as EntityState;
}
