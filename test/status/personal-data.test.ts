/**
 * The status report (GET /status, `npm run status -- --json`) carries no personal values: a
 * mapping refusal names the field, not the mobile, and a record that still quotes one (written
 * before failures were masked) is masked in the open-failures items.
 */
import { expect, it } from 'vitest';
import { FileStateStore } from '../../lib/local/file-store';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { scanOpenFailures } from '../../lib/status/failures';
import { statusReport } from '../../lib/status/status';
import { weComMobile } from '../../lib/sync/mapping';

it('an open failure from a bad mobile does not put the mobile into the status JSON', async () => {
  const mobile = '1380013800x';
  let message = '';
  try {
    weComMobile({ userid: 'zhangsan', mobile });
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toContain('mobile');
  expect(message).not.toContain(mobile);
  const store = new FileStateStore(undefined);
  await store.put({ kind: 'user', id: 'zhangsan', owned: false, status: 'failed', updatedAt: 1_700_000_000_000, lastError: message });
  const status = await statusReport({ queue: new InProcessQueue(), reports: store, failures: scanOpenFailures(store) });
  expect(status.failures.open).toBe(1);
  expect(status.failures.items[0]?.error).toBe(message);
  expect(JSON.stringify(status)).not.toContain(mobile);
});

it('a recorded failure that still quotes a mobile or an email is masked in the status JSON', async () => {
  const store = new FileStateStore(undefined);
  const lastError = 'user/create: mobile existed: +86 13800138000, email zhang.san@example.com taken (60104)';
  await store.put({ kind: 'user', id: 'zhangsan', owned: false, status: 'failed', updatedAt: 1_700_000_000_000, lastErrcode: 60104, lastError });
  const status = await statusReport({ queue: new InProcessQueue(), reports: store, failures: scanOpenFailures(store) });
  expect(status.failures.items[0]?.error).toBe('user/create: mobile existed: +86 <number>, email <email> taken (60104)');
});
