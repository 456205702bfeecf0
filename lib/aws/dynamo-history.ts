/**
 * Each entity's history, and the open failures, in the DynamoDB state table: history items are
 * written beside the entity records and read through the `timeline` index
 * (lib/aws/timeline-index.ts), one Query per read. Items expire through DynamoDB's TTL
 * (attribute `ttl`, HISTORY_TTL_DAYS after they were written); since TTL deletes lazily
 * (within days), reads skip items already past it.
 *
 * Writing needs dynamodb:PutItem on the table (the sync and reconcile roles have it); reading,
 * done by `npm run status` / `npm run history` with the operator's credentials, dynamodb:Query
 * on the table's index.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_HISTORY_LIMIT, expiryOf, type HistoryEntry, type HistoryItem, type HistoryStore } from '../history/history';
import { type Clock, type EntityKind, systemClock } from '../ports';
import { type FailureIndex, type OpenFailures, openFailureOf } from '../status/failures';
import { FAILURES_TIMELINE, historyTimeline, TIMELINE_INDEX, TIMELINE_PK, TIMELINE_SK, TTL_ATTRIBUTE } from './timeline-index';

export interface DynamoHistoryStoreOptions {
  tableName: string;
  /** Defaults to a client configured from the environment (region, credentials), as in Lambda. */
  client?: DynamoDBClient;
  /** How long an item is kept (HISTORY_TTL_DAYS). */
  ttlDays: number;
  clock?: Clock;
}

/** Counts this process's history writes; 16 digits hold any safe integer. */
let sequence = 0;
function nextSequence(): string {
  sequence += 1;
  return String(sequence).padStart(16, '0');
}

export class DynamoHistoryStore implements HistoryStore, FailureIndex {
  private readonly table: string;
  private readonly doc: DynamoDBDocumentClient;
  private readonly ttlDays: number;
  private readonly clock: Clock;

  constructor(options: DynamoHistoryStoreOptions) {
    this.table = options.tableName;
    this.doc = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
    this.ttlDays = options.ttlDays;
    this.clock = options.clock ?? systemClock;
  }

  async append(entry: HistoryEntry): Promise<void> {
    const { kind, id, ...item } = entry;
    // Two items of one entity in the same millisecond (a retry right after a failure) stay apart
    // and, when one process wrote both, in the order written: the sort key orders by time, then by
    // this process's sequence (zero-padded so it sorts as text), then a random part that keeps
    // two processes' keys apart.
    const suffix = `${nextSequence()}#${randomBytes(4).toString('hex')}`;
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: `${historyTimeline(kind, id)}#${entry.at}#${suffix}`,
          kind: 'history',
          entityKind: kind,
          entityId: id,
          ...item,
          [TTL_ATTRIBUTE]: expiryOf(Date.parse(entry.at), this.ttlDays),
          [TIMELINE_PK]: historyTimeline(kind, id),
          [TIMELINE_SK]: `${entry.at}#${suffix}`,
        },
      }),
    );
  }

  async history(kind: EntityKind, id: string, limit = DEFAULT_HISTORY_LIMIT): Promise<HistoryItem[]> {
    const nowSeconds = Math.floor(this.clock.now() / 1000);
    const items = await this.queryTimeline(historyTimeline(kind, id), limit, {
      FilterExpression: '#ttl > :now',
      ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
      ExpressionAttributeValues: { ':now': nowSeconds },
    });
    return items.map(toHistoryItem);
  }

  async openFailures(limit: number): Promise<OpenFailures> {
    const newest = await this.queryTimeline(FAILURES_TIMELINE, limit);
    let open = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ ...this.timelineQuery(FAILURES_TIMELINE), Select: 'COUNT', ExclusiveStartKey: startKey }));
      open += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return {
      open,
      items: newest.map((item) =>
        openFailureOf({
          kind: item.kind as EntityKind,
          id: item.id as string,
          updatedAt: item.updatedAt as number,
          lastErrcode: item.lastErrcode as number | undefined,
          lastError: item.lastError as string | undefined,
        }),
      ),
    };
  }

  private timelineQuery(timeline: string): QueryCommandInput {
    return {
      TableName: this.table,
      IndexName: TIMELINE_INDEX,
      KeyConditionExpression: '#gpk = :gpk',
      ExpressionAttributeNames: { '#gpk': TIMELINE_PK },
      ExpressionAttributeValues: { ':gpk': timeline },
    };
  }

  /** The newest `limit` items of one timeline: one Query, more pages only when a filter skipped items. */
  private async queryTimeline(
    timeline: string,
    limit: number,
    filter?: Pick<QueryCommandInput, 'FilterExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
  ): Promise<Record<string, unknown>[]> {
    const base = this.timelineQuery(timeline);
    const out: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          ...base,
          FilterExpression: filter?.FilterExpression,
          ExpressionAttributeNames: { ...base.ExpressionAttributeNames, ...filter?.ExpressionAttributeNames },
          ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ...filter?.ExpressionAttributeValues },
          ScanIndexForward: false,
          Limit: limit - out.length,
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && out.length < limit);
    return out.slice(0, limit);
  }
}

function toHistoryItem(item: Record<string, unknown>): HistoryItem {
  const out: HistoryItem = {
    at: item.at as string,
    trigger: item.trigger as HistoryItem['trigger'],
    correlationId: item.correlationId as string,
    result: item.result as HistoryItem['result'],
    changedFields: (item.changedFields as string[] | undefined) ?? [],
  };
  if (typeof item.errcode === 'number') out.errcode = item.errcode;
  return out;
}
