/**
 * The failed-push sweep: DingTalk keeps the events it could not deliver to the callback in a
 * list that forgets each page once read. The reconcile moves every page onto the queue, where
 * the worker handles them like any other change message.
 *
 * A page read is a page DingTalk no longer has, so it is saved in the state store's outbox before
 * it is enqueued, and deleted from there only once the queue has accepted it. Every sweep first
 * enqueues what an earlier one left in the outbox, and reads no new page while the queue or the
 * store refuses: the outbox then holds at most the page the queue last refused.
 *
 * Each failed push's messages carry the push's correlation id (lib/trail), the one its callback
 * attempts logged, with the sweep's run id beside it.
 */
import { randomUUID } from 'node:crypto';
import {
  type ChangeMessage,
  type ChangeQueue,
  type Clock,
  type DingTalkDirectory,
  type FailedPushPage,
  type OutboxRecord,
  type RunReport,
  type StateStore,
  systemClock,
} from '../ports';
import { entityRef, eventCorrelationId } from '../trail/trail';
import { errorText } from './error-text';

/** A bound on pages read in one run, should the list never say it has no more. */
const MAX_SWEEP_PAGES = 10_000;

/**
 * Messages per outbox record: a page holds up to 200 failed pushes of any number of ids, and a
 * DynamoDB item at most 400 KB; 500 messages stay far below it.
 */
const MESSAGES_PER_RECORD = 500;

export interface SweepDeps {
  dingtalk: Pick<DingTalkDirectory, 'getFailedPushes'>;
  queue: ChangeQueue;
  store: Pick<StateStore, 'putOutbox' | 'listOutbox' | 'deleteOutbox'>;
  clock?: Clock;
}

/** An outbox record on its way to the queue; `saved` once the store holds it. */
type Pending = OutboxRecord & { saved: boolean };

/**
 * Enqueues what the outbox holds, then reads the list page by page, saving and enqueueing each
 * page before asking for the next. Failures are returned as report errors, never thrown: a
 * failed sweep must not undo the applied plan. `onProgress` gets the number enqueued so far.
 */
export async function sweepFailedPushes(
  deps: SweepDeps,
  onProgress?: (done: number, total: number) => void,
  opts: { runId?: string } = {},
): Promise<{ enqueued: number; errors: RunReport['errors'] }> {
  const errors: RunReport['errors'] = [];
  let enqueued = 0;
  const sweepError = (message: string) => errors.push({ kind: 'user', id: '*', op: 'failed_push_sweep', message });

  /** Puts each record on the queue, then out of the outbox; false when something refused. */
  const deliver = async (records: Pending[]): Promise<boolean> => {
    for (const [i, record] of records.entries()) {
      try {
        await deps.queue.enqueue(record.messages);
      } catch (e) {
        // Name every entity not enqueued, so the report says what waits (or, unsaved, what is lost).
        for (const r of records.slice(i)) {
          const fate = r.saved ? 'kept in the outbox for the next run' : 'not saved either, so only this report names it';
          for (const m of r.messages) errors.push({ kind: m.kind, id: m.id, op: 'failed_push_sweep', message: `could not enqueue (${fate}): ${errorText(e)}` });
        }
        return false;
      }
      enqueued += record.messages.length;
      if (!record.saved) continue;
      try {
        await deps.store.deleteOutbox(record.id);
      } catch (e) {
        // Already enqueued: the next sweep enqueues it again, which is harmless, but the store is failing.
        sweepError(`could not delete outbox record ${record.id} after enqueueing it: ${errorText(e)}`);
        return false;
      }
    }
    return true;
  };

  let left: OutboxRecord[];
  try {
    left = await deps.store.listOutbox();
  } catch (e) {
    // A page read now could not be saved either: leave the list to DingTalk until the store answers.
    sweepError(`could not read the failed-push outbox: ${errorText(e)}`);
    return { enqueued, errors };
  }
  if (!(await deliver(left.map((r) => ({ ...r, saved: true }))))) return { enqueued, errors };
  if (left.length > 0) onProgress?.(enqueued, enqueued);

  const clock = deps.clock ?? systemClock;
  for (let page = 0; page < MAX_SWEEP_PAGES; page++) {
    let result: FailedPushPage;
    try {
      result = await deps.dingtalk.getFailedPushes();
    } catch (e) {
      sweepError(`could not read the failed-push list: ${errorText(e)}`);
      break;
    }
    const records = outboxRecords(messagesOf(result, opts.runId), clock.now());
    let saved = true;
    for (const record of records) {
      try {
        const { saved: _notStored, ...stored } = record;
        await deps.store.putOutbox(stored);
        record.saved = true;
      } catch (e) {
        // DingTalk has already forgotten this page: enqueue it all the same, and stop after it.
        sweepError(`could not save a failed-push page before enqueueing it: ${errorText(e)}`);
        saved = false;
        break;
      }
    }
    if (!(await deliver(records)) || !saved) break;
    onProgress?.(enqueued, enqueued);
    if (!result.hasMore) break;
  }
  return { enqueued, errors };
}

function messagesOf(page: FailedPushPage, runId: string | undefined): ChangeMessage[] {
  return page.failed.flatMap((f) => {
    const entities = [...f.userIds.map((id) => entityRef('user', id)), ...f.deptIds.map((id) => entityRef('dept', id))];
    const trail: ChangeMessage['trail'] = {
      correlationId: eventCorrelationId({ eventType: f.eventType, eventTime: f.eventTime, corpId: f.corpId, entities }),
      source: 'failed_push_sweep',
      ...(runId ? { runId } : {}),
    };
    const base = { eventType: f.eventType, eventTime: f.eventTime, corpId: f.corpId, trail };
    return [...f.userIds.map((id): ChangeMessage => ({ kind: 'user', id, ...base })), ...f.deptIds.map((id): ChangeMessage => ({ kind: 'dept', id, ...base }))];
  });
}

/** One page's messages as outbox records, ids unique across runs and in page order. */
function outboxRecords(messages: ChangeMessage[], savedAt: number): Pending[] {
  const pageId = `failed-push-${savedAt}-${randomUUID()}`;
  const records: Pending[] = [];
  for (let i = 0; i < messages.length; i += MESSAGES_PER_RECORD) {
    const part = String(i / MESSAGES_PER_RECORD).padStart(4, '0');
    records.push({ id: `${pageId}-${part}`, savedAt, messages: messages.slice(i, i + MESSAGES_PER_RECORD), saved: false });
  }
  return records;
}
