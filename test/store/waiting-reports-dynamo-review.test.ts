/**
 * Pinned by a review: the people waiting for a manager, end to end over the DynamoDB store
 * (dynalite): the worker's saves put the report in the manager's `timeline` partition, the
 * manager's message Queries it and sends the report, and the stale-entry paths (a report who
 * leaves, fails, or is claimed again) drop out of the partition exactly as the file store's
 * in-memory filter drops them.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStateStore, stateTableDefinition } from '../../lib/aws/dynamo-store';
import { composeSyncCore } from '../../lib/compose/core';
import { loadSyncConfig } from '../../lib/config';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { drain, runOneBatch } from '../../lib/local/worker-loop';
import { decodeMessage } from '../../lib/messages';
import type { ChangeMessage } from '../../lib/ports';
import { type Simulators, startSimulators } from '../../lib/sandbox/simulators';
import { MANAGER_CAN_LEAD } from '../../lib/sync/waiting-reports';

const dynalite = createRequire(import.meta.url)('dynalite') as (o: { createTableMs?: number }) => Server;

let server: Server;
let endpoint: string;
let tables = 0;
const open: Simulators[] = [];

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(open.map((s) => s.stop()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function rig() {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  const tableName = `state-${++tables}`;
  await client.send(new CreateTableCommand({ TableName: tableName, ...stateTableDefinition }));
  while ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus !== 'ACTIVE') {
    await new Promise((r) => setTimeout(r, 5));
  }
  const store = new DynamoStateStore({ tableName, client });
  const sims = await startSimulators({ dingtalk: { retryDelaysMs: [], rateLimitPerSecond: null }, wecom: { rateLimitPerMinute: null } });
  open.push(sims);
  const queue = new InProcessQueue();
  const core = composeSyncCore(loadSyncConfig({ ...sims.env }), { store, requeueTo: () => queue });
  const change = (id: string, eventType = 'user_add_org'): ChangeMessage => ({ kind: 'user', id, eventType, eventTime: Date.now(), corpId: 'c' });
  const waiting = () => {
    const got = queue.receive(10);
    for (const m of got) queue.nack(m.messageId);
    return got.map((m) => decodeMessage(m.body));
  };
  return { store, sims, queue, core, change, waiting };
}

describe('waiting reports over DynamoStateStore (dynalite)', () => {
  it('a worker over the Dynamo store sends the report waiting for a manager it creates, and the report gets the line', async () => {
    const { store, sims, queue, core, change, waiting } = await rig();
    await queue.enqueue([change('zhangsan')]);
    await drain(queue, core.processBatch);
    expect(await store.get('user', 'zhangsan')).toMatchObject({ status: 'synced', leaderWithheld: 'lisi' });
    expect(await store.awaitingLeader('lisi')).toEqual(['zhangsan']); // the GSI Query

    await queue.enqueue([change('lisi')]);
    const batch = await runOneBatch(queue, core.processBatch);
    expect(batch?.outcomes).toEqual([expect.objectContaining({ id: 'lisi', result: 'created' })]);
    expect(waiting()).toEqual([expect.objectContaining({ kind: 'user', id: 'zhangsan', eventType: MANAGER_CAN_LEAD })]);

    await drain(queue, core.processBatch);
    expect(sims.wecom.getUser('zhangsan')?.direct_leader).toEqual(['lisi']);
    expect(await store.awaitingLeader('lisi')).toEqual([]);
    expect((await store.get('user', 'zhangsan'))?.leaderWithheld).toBeUndefined();
  }, 60_000);

  it('a report who leaves while waiting (saved with ...state, leaderWithheld kept) leaves the partition: the manager sends nobody', async () => {
    const { store, sims, queue, core, change, waiting } = await rig();
    await queue.enqueue([change('zhangsan')]);
    await drain(queue, core.processBatch);
    expect(await store.awaitingLeader('lisi')).toEqual(['zhangsan']);

    sims.dingtalk.removeUser('zhangsan');
    await queue.enqueue([change('zhangsan', 'user_leave_org')]);
    await drain(queue, core.processBatch);
    const left = await store.get('user', 'zhangsan');
    expect(left?.status).not.toBe('synced');
    expect(await store.awaitingLeader('lisi')).toEqual([]);

    await queue.enqueue([change('lisi')]);
    await runOneBatch(queue, core.processBatch);
    expect(waiting()).toEqual([]);
  }, 60_000);
});
