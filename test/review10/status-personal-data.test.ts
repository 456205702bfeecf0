/**
 * Review 10: the status report (GET /status, `npm run status -- --json`) must not carry personal
 * values. A user refused by the mapping for a bad mobile gets a lastError quoting the mobile, and
 * the open-failures items expose it as `error`.
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
  expect(message).toContain(mobile); // what the sync stores as lastError (entity-state.ts recordFailure)
  const store = new FileStateStore(undefined);
  await store.put({ kind: 'user', id: 'zhangsan', owned: false, status: 'failed', updatedAt: 1_700_000_000_000, lastError: message });
  const status = await statusReport({ queue: new InProcessQueue(), reports: store, failures: scanOpenFailures(store) });
  expect(status.failures.open).toBe(1);
  expect(JSON.stringify(status)).not.toContain(mobile);
});
