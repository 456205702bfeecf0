/**
 * The local composition: which adapters `npm start`, the scripts and the test rigs get from the
 * environment. Real simulators on loopback; the state file in a temporary folder.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqsChangeQueue } from '../../lib/aws/sqs-queue';
import { composeLocalService, type LocalService } from '../../lib/compose/local';
import { ConfigError } from '../../lib/config';
import type { FileStateStore } from '../../lib/local/file-store';
import { SANDBOX_ENV } from '../../lib/sandbox/seed';

let service: LocalService | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await service?.close();
  service = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('composeLocalService', () => {
  it('starts the simulators when no platform credential is set, with state in memory and the in-process queue', async () => {
    service = await composeLocalService({ QUEUE_URL: 'https://sqs.example/q.fifo', STATE_TABLE: 'real-table' });
    expect(service.sims).toBeDefined();
    expect(service.config.wecomApiBase).toBe(service.sims!.env.WECOM_API_BASE);
    // The sandbox never reaches a real queue or table, whatever the environment says.
    expect(service.localQueue).toBeDefined();
    expect(service.queue).toBe(service.localQueue);
    expect((service.store as FileStateStore).path).toBeUndefined();
    expect(service.callbackConfig().token).toBe(SANDBOX_ENV.DINGTALK_TOKEN);
  });

  it('refuses a partial set of credentials, naming the first missing one', async () => {
    const partial = composeLocalService({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's' });
    await expect(partial).rejects.toBeInstanceOf(ConfigError);
    await expect(partial).rejects.toMatchObject({ variable: 'WECOM_CORP_ID' });
  });

  it('with real credentials keeps state in STATE_FILE and sends to SQS when QUEUE_URL is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    dirs.push(dir);
    const stateFile = join(dir, 'state.json');
    service = await composeLocalService({
      DINGTALK_APP_KEY: 'k',
      DINGTALK_APP_SECRET: 's',
      WECOM_CORP_ID: 'c',
      WECOM_CONTACT_SECRET: 'w',
      STATE_FILE: stateFile,
      QUEUE_URL: 'https://sqs.example/q.fifo',
    });
    expect(service.sims).toBeUndefined();
    expect(service.localQueue).toBeUndefined();
    expect(service.queue).toBeInstanceOf(SqsChangeQueue);
    expect((service.store as FileStateStore).path).toBe(stateFile);
    await service.store.put({ kind: 'user', id: 'u1', owned: true, status: 'synced', updatedAt: 1 });
    await expect.poll(() => existsSync(stateFile)).toBe(true);
  });

  it('starts a DingTalk that refuses more than 20 calls/s per API, as DingTalk does, and paces the service below it', async () => {
    service = await composeLocalService({});
    expect(service.sims!.dingtalk.rateLimit).toEqual({ limit: 20, windowMs: 1000 });
    expect(service.sims!.wecom.rateLimit).toEqual({ limit: 10_000, windowMs: 60_000 });
    // One process for every worker there is: npm start's loop runs SYNC_MAX_CONCURRENCY batches at once.
    expect(service.rates).toMatchObject({ dingtalkCallsPerSecond: 18, syncMaxConcurrency: 5 });
  });

  it('lets a test turn the simulator’s limit off', async () => {
    service = await composeLocalService({}, { simulators: { dingtalk: { rateLimitPerSecond: null } }, pacing: false });
    expect(service.sims!.dingtalk.rateLimit).toBeUndefined();
  });

  it('lets overrides win over the simulators and the environment', async () => {
    service = await composeLocalService({ SYNC_ON_LEAVE: 'ignore' }, { sandbox: true, overrides: { SYNC_ON_LEAVE: 'delete' } });
    expect(service.config.onLeave).toBe('delete');
  });

  it('stops the simulators when the configuration is wrong', async () => {
    const bad = composeLocalService({}, { sandbox: true, overrides: { SYNC_ON_LEAVE: 'archive' } });
    await expect(bad).rejects.toMatchObject({ variable: 'SYNC_ON_LEAVE' });
  });
});
