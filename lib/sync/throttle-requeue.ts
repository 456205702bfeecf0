/**
 * A change whose platform calls were still throttled when its invocation ran out of time to wait
 * (DingTalk 90018, WeCom 45009/45033, or no call slot left in this worker's share) goes back to
 * the queue as a new message, and the one received is acknowledged.
 *
 * Why a new message: SQS counts every receive, and after `maxReceiveCount` (5) moves the message
 * to the dead-letter queue. Reported as a batch item failure, a throttled message would come back
 * one receive closer to the DLQ, for the platforms' load rather than anything wrong with the
 * change. A copy starts again at zero receives. It may arrive after later messages of its group:
 * harmless, since a message only says "this entity may have changed" and the worker re-reads it.
 *
 * Bounded: a change throttled for longer than MAX_THROTTLED_MS (WeCom blocks the rest of an
 * hour once its hourly limit is passed; DingTalk bans an IP for 5 minutes) is thrown like any
 * retryable failure, so a limit that never lifts ends in the DLQ and its alarm rather than
 * circling unseen. When the queue refuses the copy, the failure is thrown too: the message then
 * comes back as it always did.
 */
import { isThrottle } from '../errors';
import type { Logger } from '../log';
import { type ChangeMessage, type ChangeQueue, type Clock, systemClock } from '../ports';
import type { EntitySync, SyncOutcome } from './entity';
import { errorText } from './error-text';

/** Two hours: past WeCom's hourly window and DingTalk's 5-minute ban, with room to spare. */
export const MAX_THROTTLED_MS = 2 * 60 * 60_000;

export interface ThrottleRequeueDeps {
  /** Where the copy goes: the change queue the message came from. */
  queue: () => ChangeQueue;
  clock?: Clock;
  logger?: Logger;
}

type Handler = Pick<EntitySync, 'handle'>;

/** `sync`, with throttled changes sent back as new messages instead of thrown. */
export function requeueingThrottled(sync: Handler, deps: ThrottleRequeueDeps): Handler {
  const clock = deps.clock ?? systemClock;
  return {
    async handle(message: ChangeMessage): Promise<SyncOutcome> {
      try {
        return await sync.handle(message);
      } catch (e) {
        if (!isThrottle(e)) throw e;
        const now = clock.now();
        const since = message.throttled?.since ?? now;
        if (now - since > MAX_THROTTLED_MS) {
          deps.logger?.error('change throttled for too long; retried as a failure from now on', { kind: message.kind, id: message.id, since });
          throw e;
        }
        const copy: ChangeMessage = { ...message, throttled: { requeues: (message.throttled?.requeues ?? 0) + 1, since } };
        try {
          await deps.queue().enqueue([copy]);
        } catch (queueError) {
          deps.logger?.warn('could not send a throttled change back as a new message; it is retried as a failure', {
            kind: message.kind,
            id: message.id,
            error: errorText(queueError),
          });
          throw e;
        }
        deps.logger?.info('change throttled until the time ran out; sent back as a new message', {
          kind: message.kind,
          id: message.id,
          requeues: copy.throttled!.requeues,
          error: errorText(e),
        });
        return { kind: message.kind, id: message.id, result: 'requeued', errcode: e.errcode, message: 'throttled; sent back to the queue as a new message' };
      }
    },
  };
}
