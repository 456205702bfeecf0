/**
 * Recording what syncing one entity did: an item in its history, the outcome metrics, and one
 * `sync outcome` log line, under the trail in force (lib/trail/context.ts).
 *
 * EntitySync runs each entry point through `SyncAudit.run`: the outcome it returns is the
 * entity's item; a thrown error is a `retry`; entities written on the way get items of their own
 * (side-effects.ts). A history write that fails is logged (the line keeps the item: names and
 * codes only) and does not fail the sync: WeCom has already been written, and a retry would
 * record `unchanged` instead of what happened.
 */
import { randomUUID } from 'node:crypto';
import { PlatformError } from '../errors';
import type { Logger } from '../log';
import { METRIC, type MetricsRecorder } from '../metrics/metrics';
import type { Clock, EntityKind } from '../ports';
import type { SyncOutcome } from '../sync/outcome';
import { currentTrail, runForEntity } from '../trail/context';
import { entityRef, type Trail } from '../trail/trail';
import { changedFields } from './changed-fields';
import { type HistoryEntry, type HistoryResult, type HistoryStore, historyResultOf, WRITE_RESULTS } from './history';
import { type ObservedWrites, observeWrites } from './observed-writes';
import { sideEffectOf } from './side-effects';

export interface SyncAuditDeps {
  history?: HistoryStore;
  metrics?: MetricsRecorder;
  clock: Clock;
  logger?: Logger;
}

/** Sources whose trigger carries DingTalk's event time: the latency from it to the write is the propagation. */
const PROPAGATED = new Set(['push', 'failed_push_sweep', 'queue']);

export class SyncAudit {
  constructor(private readonly deps: SyncAuditDeps) {}

  /** Runs one entry point of EntitySync for (kind, id) and records what it did. */
  run(kind: EntityKind, id: string, work: () => Promise<SyncOutcome>): Promise<SyncOutcome> {
    return runForEntity(kind, id, async () => {
      const writes: ObservedWrites = new Map();
      let outcome: SyncOutcome;
      try {
        outcome = await observeWrites(writes, work);
      } catch (e) {
        await this.record(kind, id, { result: 'retry', errcode: e instanceof PlatformError ? e.errcode : undefined }, writes, false);
        throw e;
      }
      await this.record(kind, id, { result: historyResultOf(outcome.result), errcode: outcome.errcode }, writes, true);
      return outcome;
    });
  }

  private async record(
    kind: EntityKind,
    id: string,
    main: { result: HistoryResult; errcode?: number },
    writes: ObservedWrites,
    completed: boolean,
  ): Promise<void> {
    const trail: Trail = currentTrail() ?? { correlationId: randomUUID(), trigger: { source: 'direct' } };
    const now = this.deps.clock.now();
    const at = new Date(now).toISOString();
    const own = writes.get(`${kind}#${id}`);
    const entries: HistoryEntry[] = [
      {
        kind,
        id,
        at,
        trigger: trail.trigger,
        correlationId: trail.correlationId,
        result: main.result,
        changedFields: own ? changedFields(own.before?.payload, own.after.payload) : [],
        ...(main.errcode !== undefined ? { errcode: main.errcode } : {}),
      },
    ];
    for (const write of writes.values()) {
      if (write.kind === kind && write.id === id) continue;
      const side = sideEffectOf(write, completed);
      if (side) entries.push({ kind: write.kind, id: write.id, at, trigger: trail.trigger, correlationId: trail.correlationId, ...side });
    }

    const eventTime = trail.trigger.eventTime ? Date.parse(trail.trigger.eventTime) : Number.NaN;
    const propagationMs = WRITE_RESULTS.has(main.result) && PROPAGATED.has(trail.trigger.source) && eventTime > 0 ? now - eventTime : undefined;
    if (propagationMs !== undefined) this.deps.metrics?.add(METRIC.propagationLatency, 'Milliseconds', propagationMs);

    for (const [i, entry] of entries.entries()) {
      this.deps.metrics?.add(METRIC.syncResults, 'Count', 1, { Result: entry.result });
      const fields = {
        entity: entityRef(entry.kind, entry.id),
        result: entry.result,
        changedFields: entry.changedFields,
        ...(entry.errcode !== undefined ? { errcode: entry.errcode } : {}),
        ...(i === 0 && propagationMs !== undefined ? { propagationMs } : {}),
        ...(i > 0 ? { onTheWayOf: entityRef(kind, id) } : {}),
      };
      this.deps.logger?.info('sync outcome', fields);
      try {
        await this.deps.history?.append(entry);
      } catch (e) {
        this.deps.logger?.error('could not keep a history item; this line stands for it', {
          ...fields,
          at: entry.at,
          error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        });
      }
    }
  }
}
