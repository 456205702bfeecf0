/**
 * The reconcile's progress item on dynalite, and the writer the reconcile function uses: at most
 * one write per interval within a phase, always on a new phase and on the last item, in order.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { progressWriter, ReconcileProgressItem } from '../../lib/aws/reconcile-progress';
import { localAwsServers } from '../support/fake-aws';

let aws: Awaited<ReturnType<typeof localAwsServers>>;

beforeAll(async () => {
  aws = await localAwsServers();
});
afterAll(() => aws.close());

it('writes and reads one item; nothing before the first run', async () => {
  const item = new ReconcileProgressItem('state', aws.dynamodb);
  expect(await item.get()).toBeUndefined();
  await item.put({ phase: 'read', done: 1, total: 4, startedAt: 10, updatedAt: 11 });
  expect(await item.get()).toEqual({ phase: 'read', done: 1, total: 4, startedAt: 10, updatedAt: 11 });
});

it('throttles within a phase, writes every new phase and every phase’s end', async () => {
  const item = new ReconcileProgressItem('state', aws.dynamodb);
  const written: string[] = [];
  const put = item.put.bind(item);
  item.put = async (p) => {
    written.push(`${p.phase} ${p.done}/${p.total}`);
    await put(p);
  };
  const clock = { t: 1000 };
  const write = progressWriter(item, 1000, 3000, () => clock.t);
  write('read', 1, 10);
  write('read', 2, 10); // within 3 s: skipped
  clock.t += 3000;
  write('read', 3, 10);
  write('read', 10, 10); // the end of a phase is always written
  write('apply', 1, 5); // a new phase too
  write('apply', 2, 5);
  // Writes go one after the other: wait for the chain by writing the last item and reading it back.
  clock.t += 3000;
  write('apply', 5, 5);
  for (let i = 0; i < 100 && (await item.get())?.done !== 5; i++) await new Promise((r) => setTimeout(r, 10));
  expect(written).toEqual(['read 1/10', 'read 3/10', 'read 10/10', 'apply 1/5', 'apply 5/5']);
  expect(await item.get()).toMatchObject({ phase: 'apply', done: 5, total: 5, startedAt: 1000 });
});
