/**
 * History is newest first even when items of one entity share a millisecond (a retry recorded,
 * then the redelivery's outcome): the order of writes must not rest on a random key suffix.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DynamoHistoryStore } from '../../lib/aws/dynamo-history';
import { stateTableDefinition } from '../../lib/aws/dynamo-store';
import { FileHistoryStore } from '../../lib/local/file-history';

const dynalite = createRequire(import.meta.url)('dynalite') as (o: { createTableMs?: number }) => Server;
let server: Server;
let client: DynamoDBClient;
const T0 = Date.parse('2026-03-01T08:00:00.000Z');

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  await client.send(new CreateTableCommand({ TableName: 'hist', ...stateTableDefinition }));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const entries = Array.from({ length: 8 }, (_, i) => ({
  kind: 'user' as const,
  id: 'lisi',
  at: new Date(T0).toISOString(),
  trigger: { source: 'queue' as const },
  correlationId: `c-${i}`,
  result: 'retry' as const,
  changedFields: [],
}));

it('the file history keeps same-millisecond items newest first (control)', async () => {
  const store = new FileHistoryStore(undefined, { ttlDays: 10, clock: { now: () => T0 } });
  for (const e of entries) await store.append(e);
  expect((await store.history('user', 'lisi')).map((i) => i.correlationId)).toEqual(entries.map((e) => e.correlationId).reverse());
});

it('the DynamoDB history keeps same-millisecond items newest first', async () => {
  const store = new DynamoHistoryStore({ tableName: 'hist', client, ttlDays: 10, clock: { now: () => T0 } });
  for (const e of entries) await store.append(e);
  expect((await store.history('user', 'lisi')).map((i) => i.correlationId)).toEqual(entries.map((e) => e.correlationId).reverse());
});
