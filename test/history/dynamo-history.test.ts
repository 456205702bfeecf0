/**
 * The DynamoDB history and open-failures index on dynalite, with the table created from the
 * exported definition (the one serverless.yml must match).
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoHistoryStore } from '../../lib/aws/dynamo-history';
import { DynamoStateStore, stateTableDefinition } from '../../lib/aws/dynamo-store';
import { TTL_ATTRIBUTE } from '../../lib/aws/timeline-index';
import { userState } from '../store/contract';
import { entry, historyStoreContract, T0, TTL_DAYS } from './contract';

const dynalite = createRequire(import.meta.url)('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number }) => Server;

let server: Server;
let endpoint: string;
let tables = 0;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A client counting the commands it sends, by name. */
function newClient(): DynamoDBClient & { commands: string[] } {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return Object.assign(client, { commands });
}

async function newTable(client: DynamoDBClient): Promise<string> {
  const tableName = `history-${++tables}`;
  await client.send(new CreateTableCommand({ TableName: tableName, ...stateTableDefinition }));
  while ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus !== 'ACTIVE') {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return tableName;
}

historyStoreContract('DynamoHistoryStore on dynalite', async () => {
  const client = newClient();
  const tableName = await newTable(client);
  const clock = { t: T0 };
  return {
    store: new DynamoHistoryStore({ tableName, client, ttlDays: TTL_DAYS, clock: { now: () => clock.t } }),
    clock,
    cleanup: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
});

describe('DynamoHistoryStore specifics', () => {
  it('reads one entity’s history with one Query on the index, never a Scan', async () => {
    const client = newClient();
    const tableName = await newTable(client);
    const store = new DynamoHistoryStore({ tableName, client, ttlDays: TTL_DAYS, clock: { now: () => T0 } });
    for (let i = 0; i < 30; i++) await store.append(entry(i % 3 === 0 ? 'zhangsan' : `other${i}`, T0 + i));
    client.commands.length = 0;
    expect(await store.history('user', 'zhangsan')).toHaveLength(10);
    expect(client.commands).toEqual(['QueryCommand']);
  });

  it('writes the TTL in epoch seconds, HISTORY_TTL_DAYS after the item, and no values beside the field names', async () => {
    const client = newClient();
    const tableName = await newTable(client);
    await new DynamoHistoryStore({ tableName, client, ttlDays: 180 }).append(entry('zhangsan', T0, { changedFields: ['mobile', 'name'] }));
    const items = (await DynamoDBDocumentClient.from(client).send(new ScanCommand({ TableName: tableName }))).Items!;
    expect(items).toHaveLength(1);
    expect(items[0]![TTL_ATTRIBUTE]).toBe(T0 / 1000 + 180 * 86_400);
    expect(Object.keys(items[0]!).sort()).toEqual(
      ['at', 'changedFields', 'correlationId', 'entityId', 'entityKind', 'gpk', 'gsk', 'kind', 'pk', 'result', 'trigger', TTL_ATTRIBUTE].sort(),
    );
  });

  it('lists open failures newest first from the index: a record enters it when failed and leaves when it is not', async () => {
    const client = newClient();
    const tableName = await newTable(client);
    const states = new DynamoStateStore({ tableName, client });
    const history = new DynamoHistoryStore({ tableName, client, ttlDays: TTL_DAYS });
    for (let i = 0; i < 25; i++) {
      await states.put(userState(`u${i}`, { status: 'failed', updatedAt: T0 + i * 1000, lastErrcode: 60104, lastError: 'user/create: mobile existed' }));
    }
    await states.put(userState('fine', { status: 'synced' }));
    await states.put(userState('u24', { status: 'synced', updatedAt: T0 + 99_000 }));
    client.commands.length = 0;
    const failures = await history.openFailures(20);
    expect(client.commands.every((c) => c === 'QueryCommand')).toBe(true);
    expect(failures.open).toBe(24);
    expect(failures.items).toHaveLength(20);
    expect(failures.items[0]).toEqual({
      kind: 'user',
      id: 'u23',
      since: new Date(T0 + 23_000).toISOString(),
      errcode: 60104,
      error: 'user/create: mobile existed',
    });
    expect(failures.items.map((f) => f.id).slice(-1)).toEqual(['u4']);
    // The record itself still reads as it was written: the index keys are not part of it.
    expect(await states.get('user', 'u0')).not.toHaveProperty('gpk');
  });
});
