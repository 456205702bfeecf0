/**
 * The run report on DynamoDB (dynalite): a run with thousands of failures still saves a report,
 * bounded to what one item can hold.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoStateStore, stateTableDefinition } from '../../lib/aws/dynamo-store';
import { rigLifecycle } from './rig';

const dynalite = createRequire(import.meta.url)('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number }) => Server;
const rigs = rigLifecycle();

describe('the run report on DynamoDB', () => {
  // 3,000 permanent failures (here a mobile WeCom cannot take; in life 45024, the account limit, on
  // a large import) would make one item above DynamoDB's 400 KB: the report keeps the first
  // errors, the totals and the counts, and says so.
  it('a reconcile with thousands of failures still returns and saves its report', async () => {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      await client.send(new CreateTableCommand({ TableName: 'state', ...stateTableDefinition }));
      while ((await client.send(new DescribeTableCommand({ TableName: 'state' }))).Table?.TableStatus !== 'ACTIVE') {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const store = new DynamoStateStore({ tableName: 'state', client });
      const r = await rigs.start();
      r.dt.seed({
        users: Array.from({ length: 3000 }, (_, i) => ({ userid: `user${String(i).padStart(5, '0')}`, name: `人${i}`, mobile: '12', dept_id_list: [4] })),
      });

      const run = await r.reconcile({}, { store }).then(
        (x) => x.report,
        (e: unknown) => String(e),
      );
      expect(run).toMatchObject({ status: 'partial', totals: { errors: 3000 }, message: expect.stringMatching(/keeps the first \d+ of 3000 errors/) });
      expect(await store.latestReport()).toEqual(run);
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 300_000);
});
