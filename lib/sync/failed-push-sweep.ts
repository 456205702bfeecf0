/**
 * The failed-push sweep: DingTalk keeps the events it could not deliver to the callback in a
 * list that forgets each page once read. The reconcile moves every page onto the queue, where
 * the worker handles them like any other change message.
 */
import type { ChangeMessage, ChangeQueue, DingTalkDirectory, FailedPushPage, RunReport } from '../ports';
import { errorText } from './error-text';

/** A bound on pages read in one run, should the list never say it has no more. */
const MAX_SWEEP_PAGES = 10_000;

/**
 * Reads the list page by page and enqueues each page before asking for the next. Failures are
 * returned as report errors, never thrown: a failed sweep must not undo the applied plan.
 * `onProgress` gets the number enqueued so far.
 */
export async function sweepFailedPushes(
  deps: { dingtalk: Pick<DingTalkDirectory, 'getFailedPushes'>; queue: ChangeQueue },
  onProgress?: (done: number, total: number) => void,
): Promise<{ enqueued: number; errors: RunReport['errors'] }> {
  const errors: RunReport['errors'] = [];
  let enqueued = 0;
  for (let page = 0; page < MAX_SWEEP_PAGES; page++) {
    let result: FailedPushPage;
    try {
      result = await deps.dingtalk.getFailedPushes();
    } catch (e) {
      errors.push({ kind: 'user', id: '*', op: 'failed_push_sweep', message: `could not read the failed-push list: ${errorText(e)}` });
      break;
    }
    const messages: ChangeMessage[] = result.failed.flatMap((f) => [
      ...f.userIds.map((id): ChangeMessage => ({ kind: 'user', id, eventType: f.eventType, eventTime: f.eventTime, corpId: f.corpId })),
      ...f.deptIds.map((id): ChangeMessage => ({ kind: 'dept', id, eventType: f.eventType, eventTime: f.eventTime, corpId: f.corpId })),
    ]);
    if (messages.length > 0) {
      try {
        // Enqueue this page before asking for the next: the API forgets what it returned.
        await deps.queue.enqueue(messages);
        enqueued += messages.length;
      } catch (e) {
        // These entities are now known only to this report: name them so nothing is silently lost.
        for (const m of messages) errors.push({ kind: m.kind, id: m.id, op: 'failed_push_sweep', message: `could not enqueue: ${errorText(e)}` });
        break;
      }
    }
    onProgress?.(enqueued, enqueued);
    if (!result.hasMore) break;
  }
  return { enqueued, errors };
}
