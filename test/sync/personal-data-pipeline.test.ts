/**
 * Through the sandbox pipeline (push → worker → WeCom), a name change and a WeCom
 * refusal whose errmsg echoes the mobile must leave no name or mobile in the history, the log
 * lines or the status report.
 */
import { expect, it } from 'vitest';
import { FileStateStore } from '../../lib/local/file-store';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { startSandboxPipeline } from '../../lib/sandbox/pipeline';
import { statusReport } from '../../lib/status/status';

it('a name change is recorded by field name only (history and logs)', async () => {
  const p = await startSandboxPipeline();
  try {
    p.dt.addUser({ userid: 'pd-a', name: '王五', mobile: '13900000002', state_code: '86', dept_id_list: [1] });
    await p.settle();
    p.dt.updateUser('pd-a', { name: '王五六' });
    await p.settle();
    const items = await p.history.history('user', 'pd-a');
    expect(items[0]).toMatchObject({ result: 'updated', changedFields: ['name'] });
    const text = JSON.stringify(items) + JSON.stringify(p.logger.entries);
    expect(text).not.toContain('王五');
    expect(text).not.toContain('13900000002');
  } finally {
    await p.close();
  }
});

it('a WeCom errmsg echoing the mobile stays out of the log lines and the status report', async () => {
  const p = await startSandboxPipeline();
  try {
    p.wc.failNext('user/create', 60104, 1, 'mobile existed: +86 13900000003');
    p.dt.addUser({ userid: 'pd-b', name: '赵六', mobile: '13900000003', state_code: '86', dept_id_list: [1] });
    await p.settle();
    expect(await p.store.get('user', 'pd-b')).toMatchObject({ status: 'failed', lastErrcode: 60104 });
    const status = await statusReport({ queue: new InProcessQueue(), reports: new FileStateStore(undefined), failures: p.failures });
    expect(status.failures.open).toBe(1);
    // The line keeps its own message; the outcome's goes under `error`, masked.
    const line = p.logger.entries.find((e) => e.message === 'change recorded as failed');
    expect(line).toMatchObject({ kind: 'user', id: 'pd-b', errcode: 60104, error: expect.stringContaining('<number>') });
    expect((await p.store.get('user', 'pd-b'))?.lastError).toContain('mobile existed: +86 <number>');
    expect(JSON.stringify(p.logger.entries)).not.toContain('13900000003');
    expect(JSON.stringify(status)).not.toContain('13900000003');
  } finally {
    await p.close();
  }
});
