/**
 * What the department tests share: EntitySync on the sandbox organisation, against the
 * simulators over HTTP and the embedded store, closed after each test. `syncWith` builds another
 * EntitySync on the same clients and store with some settings changed.
 */
import { afterEach } from 'vitest';
import { composeLocalService } from '../../lib/compose/local';
import type { SyncConfig } from '../../lib/config';
import type { FileStateStore } from '../../lib/local/file-store';
import { createMemoryLogger } from '../../lib/log';
import type { DingTalkSimulator } from '../../lib/sandbox/dingtalk-sim';
import type { WeComSimulator } from '../../lib/sandbox/wecom-sim';
import { EntitySync } from '../../lib/sync/entity';

export interface SyncRig {
  dt: DingTalkSimulator;
  wc: WeComSimulator;
  store: FileStateStore;
  sync: EntitySync;
  syncWith(config: Partial<SyncConfig>): EntitySync;
}

export function sandboxSync(): (env?: Record<string, string>) => Promise<SyncRig> {
  const open: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of open.splice(0)) await close();
  });
  return async (env = {}) => {
    const service = await composeLocalService(
      {},
      { sandbox: true, simulators: { dingtalk: { retryDelaysMs: [] }, wecom: { rateLimitPerMinute: null } }, overrides: env, logger: createMemoryLogger() },
    );
    open.push(service.close);
    const { dingtalk, wecom, sync, config } = service;
    const store = service.store as FileStateStore;
    return {
      dt: service.sims!.dingtalk,
      wc: service.sims!.wecom,
      store,
      sync,
      syncWith: (over) => new EntitySync({ dingtalk, wecom, store, config: { ...config, ...over } }),
    };
  };
}
