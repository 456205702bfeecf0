import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStateStore, stateTableDefinition } from '../../lib/aws/dynamo-store';
import { stateStoreContract, userPayload, userState } from './contract';

// dynalite ships no type declarations: load it through require with the one signature used here.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number }) => Server;

let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function newClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

let tables = 0;

/** A fresh table created from the exported definition (the one serverless.yml must match). */
async function newTable(client: DynamoDBClient): Promise<string> {
  const tableName = `state-${++tables}`;
  await client.send(new CreateTableCommand({ TableName: tableName, ...stateTableDefinition }));
  // dynalite flips the table to ACTIVE on a timer, even with createTableMs 0.
  while ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus !== 'ACTIVE') {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return tableName;
}

stateStoreContract('DynamoStateStore on dynalite', async () => {
  const client = newClient();
  const tableName = await newTable(client);
  return {
    store: new DynamoStateStore({ tableName, client }),
    cleanup: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
});

describe('DynamoStateStore specifics', () => {
  it('declares a table keyed by the string pk alone, billed per request, with the timeline index for history and failures', () => {
    expect(stateTableDefinition).toEqual({
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'gpk', AttributeType: 'S' },
        { AttributeName: 'gsk', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        {
          IndexName: 'timeline',
          KeySchema: [
            { AttributeName: 'gpk', KeyType: 'HASH' },
            { AttributeName: 'gsk', KeyType: 'RANGE' },
          ],
          Projection: expect.objectContaining({ ProjectionType: 'INCLUDE' }),
        },
      ],
    });
    // The index never carries a payload: personal data stays in the entity records.
    expect(stateTableDefinition.GlobalSecondaryIndexes[0]!.Projection!.NonKeyAttributes).not.toContain('payload');
  });

  it('follows scan pages: list reads past the first 1 MB page', { timeout: 120_000 }, async () => {
    const client = newClient();
    let scans = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ScanCommand') scans++;
        return next(args);
      },
      { step: 'initialize', name: 'countScans' },
    );
    const store = new DynamoStateStore({ tableName: await newTable(client), client });
    const ids = Array.from({ length: 1200 }, (_, i) => `u${i}`);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map((id) => store.put(userState(id, { payload: userPayload(id, 'x'.repeat(1000)) }))));
    }
    const users = await store.list('user');
    expect(users).toHaveLength(ids.length);
    expect(scans).toBeGreaterThan(1);
    client.destroy();
  });

  it('stores entities under user#<id> / dept#<id>, so other tools can find them', async () => {
    const client = newClient();
    const tableName = await newTable(client);
    const store = new DynamoStateStore({ tableName, client });
    await store.put(userState('zhangsan'));
    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const raw = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'user#zhangsan' } } }));
    expect(raw.Item).toMatchObject({ kind: { S: 'user' }, id: { S: 'zhangsan' }, version: { N: '1' } });
    client.destroy();
  });
});
