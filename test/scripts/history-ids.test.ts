/**
 * Userids with `/`, `#`, `%`, `?`, unicode, spaces or 64 characters through
 * `npm run history -- --url` (httpOperations) and npm start's GET /history/user/<id>. The ids
 * `.` and `..` cannot travel in a URL path (parsers resolve them, even as %2E): refused.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDevServer } from '../../lib/local/dev-server';
import { FileHistoryStore } from '../../lib/local/file-history';
import { FileStateStore } from '../../lib/local/file-store';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { operationsRoutes } from '../../lib/local/ops-routes';
import { scanOpenFailures } from '../../lib/status/failures';
import { operationsOf } from '../../lib/status/operations';
import { historyCommand } from '../../scripts/operations-cli';

const T0 = Date.parse('2026-03-01T08:00:00.000Z');
const ids = ['a/b', 'a#b', '100%', 'a?b=1', '张三', 'a b', 'x'.repeat(64), 'a/../b', 'a+b'];
let url = '';
let close: () => void;

beforeAll(async () => {
  const history = new FileHistoryStore(undefined, { ttlDays: 10, clock: { now: () => T0 } });
  for (const id of ids)
    await history.append({
      kind: 'user',
      id,
      at: new Date(T0).toISOString(),
      trigger: { source: 'direct' },
      correlationId: `c:${id}`,
      result: 'created',
      changedFields: ['name'],
    });
  const store = new FileStateStore(undefined);
  const ops = operationsOf({ queue: new InProcessQueue(), reports: store, failures: scanOpenFailures(store), history });
  const started = await startDevServer(operationsRoutes(ops), 0);
  url = started.url;
  close = () => started.server.close();
});
afterAll(() => close());

it.each(ids)('npm run history -- --user %j --json finds its item', async (id) => {
  const r = await historyCommand(['--url', url, '--user', id, '--json']);
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout).items.map((i: { correlationId: string }) => i.correlationId)).toEqual([`c:${id}`]);
});

it.each(['.', '..'])('npm run history -- --user %j refuses an id a URL path cannot carry', async (id) => {
  const r = await historyCommand(['--url', url, '--user', id, '--json']);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`history: the id ${JSON.stringify(id)} cannot be asked for over HTTP; read it with --stage\n`);
});
