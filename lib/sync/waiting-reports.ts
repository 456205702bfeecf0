/**
 * People whose reporting line waits for their manager: written while that manager could not lead
 * in WeCom (not created yet, failed, disabled), so `direct_leader` left them out and their record
 * says whom (`leaderWithheld`). A manager created or re-enabled later sends no event for their
 * reports. So when the worker's write makes a manager able to lead (new-leaders.ts), each person
 * waiting for them is sent to the queue as a change of their own, and written with the line by
 * whichever worker takes it, under that person's lease, like any change. Sent, not written here:
 * the manager's message neither waits for other people's leases nor grows with their number.
 *
 * A report and their manager may be written at the same moment by two workers: the report's
 * worker reads the manager before the manager's save, and the manager's worker lists who waits
 * before the report's save. So the report's worker looks at the manager once more after its own
 * save (user-sync.ts, applyUser): one of the two sees the other. On DynamoDB the list is an
 * index read, eventually consistent, and a record last saved before this existed is not in it (it
 * has no index keys until it is saved again): the reconcile's pass over `leaderWithheld`
 * (apply-plan.ts) stays the backstop for what it misses.
 *
 * Only the worker does this: the reconcile completes the reporting lines of its own run itself,
 * and counts them in its report.
 */
import type { Logger } from '../log';
import { type ChangeMessage, type ChangeQueue, type Clock, type StateStore, systemClock } from '../ports';
import { mayLead } from './direct-leader';
import type { EntitySync, SyncOutcome } from './entity';
import { errorText } from './error-text';
import { collectingNewLeaders } from './new-leaders';

/** The eventType of a change sent for a person whose manager can lead now. */
export const MANAGER_CAN_LEAD = 'manager_can_lead';

export interface WaitingReportsDeps {
  store: Pick<StateStore, 'get' | 'awaitingLeader'>;
  /** Where the changes go: the change queue. */
  queue: () => ChangeQueue;
  clock?: Clock;
  logger?: Logger;
}

type Handler = Pick<EntitySync, 'handle'>;

/**
 * `sync`, sending the people waiting for a manager to the queue once the manager can lead: for
 * every user noted while the message was handled (new-leaders.ts) who can lead now, whether the
 * message then succeeded or threw.
 */
export function sendingWaitingReports(sync: Handler, deps: WaitingReportsDeps): Handler {
  const clock = deps.clock ?? systemClock;
  const send = async (manager: string, cause: ChangeMessage): Promise<void> => {
    // The manager's own change does not depend on this: a failure is left to the reconcile.
    try {
      if (!mayLead(await deps.store.get('user', manager))) return; // the write that would have made them lead did not
      const waiting = await deps.store.awaitingLeader(manager);
      if (waiting.length === 0) return;
      const eventTime = clock.now();
      const changes = waiting.map(
        (id): ChangeMessage => ({
          kind: 'user',
          id,
          eventType: MANAGER_CAN_LEAD,
          eventTime,
          corpId: cause.corpId,
          eventId: `${MANAGER_CAN_LEAD}:${manager}`, // two managers in one millisecond are two changes
          ...(cause.trail ? { trail: cause.trail } : {}),
        }),
      );
      await deps.queue().enqueue(changes);
      deps.logger?.info('people waiting for their manager sent to the queue', { manager, waiting: waiting.length });
    } catch (e) {
      deps.logger?.warn('could not send the people waiting for their manager; the next reconcile writes their reporting line', {
        manager,
        error: errorText(e),
      });
    }
  };
  return {
    async handle(message: ChangeMessage): Promise<SyncOutcome> {
      const leaders = new Set<string>();
      try {
        return await collectingNewLeaders(leaders, () => sync.handle(message));
      } finally {
        for (const manager of leaders) await send(manager, message);
      }
    },
  };
}
