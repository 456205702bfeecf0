/**
 * The sync worker's batch logic, shared by the Lambda (handlers/sync.ts) and the local loop:
 * SQS FIFO batches with partial batch responses. A failed record fails the rest of its message
 * group in the batch (`skipGroupOnError`), so one entity's changes never overtake each other,
 * while other entities go on.
 *
 * Records run one after the other, and each may wait on several HTTP calls, so a batch can outlast
 * its invocation when WeCom or DingTalk is slow. Given the invocation's deadline, the worker starts
 * no record once less than `startReserveMs` remains before it: those are reported as batch item failures and come
 * back on a later receive, instead of the whole batch being cut off by the timeout (which would
 * return the finished records too and count a receive against every one of them).
 *
 * Each record is handled under its trail (lib/trail): the correlation id its message attributes
 * carry (else the SQS message id), so every line logged while it is synced names it.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { invocationDeadline } from '../invocation-deadline';
import type { Logger } from '../log';
import { decodeMessage } from '../messages';
import { redactPersonalData } from '../personal-data';
import { trailFromAttributes } from '../trail/attributes';
import { runWithTrail } from '../trail/context';
import { trailOfMessage } from '../trail/trail';
import type { EntitySync, SyncOutcome } from './entity';
import { errorText } from './error-text';

export interface SyncBatchResult {
  response: SQSBatchResponse;
  outcomes: SyncOutcome[];
  /** Records left unstarted because the deadline was near (also in the batch item failures). */
  notStarted: number;
}

/**
 * Time kept in hand, before the invocation's deadline for platform calls, when starting a record:
 * room for one record's calls. A record started later would only fail at the deadline.
 */
const DEFAULT_START_RESERVE_MS = 5_000;

/** Thrown for a record the worker did not start; it goes back to the queue untouched. */
class DeadlineNear extends Error {
  override readonly name = 'DeadlineNear';
}

/**
 * A batch processor. The invocation's deadline (lib/invocation-deadline.ts, set by the handler or
 * the local loop) decides which records still start; `startReserveMs` is the time before it below
 * which no further record is started.
 */
export function createSyncBatchProcessor(
  sync: Pick<EntitySync, 'handle'>,
  logger?: Logger,
  opts: { startReserveMs?: number } = {},
): (event: SQSEvent) => Promise<SyncBatchResult> {
  const startReserveMs = opts.startReserveMs ?? DEFAULT_START_RESERVE_MS;
  return async (event) => {
    const outcomes: SyncOutcome[] = [];
    let notStarted = 0;
    const handleRecord = async (record: SQSRecord): Promise<void> => {
      const deadlineAt = invocationDeadline();
      if (deadlineAt !== undefined && deadlineAt - Date.now() < startReserveMs) {
        notStarted++;
        throw new DeadlineNear();
      }
      // A body we cannot read is thrown, not dropped: after maxReceiveCount it rests in the DLQ.
      const message = decodeMessage(record.body);
      const trail = trailFromAttributes(record.messageAttributes);
      if (trail) message.trail = trail;
      return runWithTrail(trailOfMessage(message, record.messageId), async () => {
        try {
          // Its platform calls end by the invocation's deadline: started late, it fails in time
          // (retryably) rather than being killed with the whole batch.
          const outcome = await sync.handle(message);
          outcomes.push(outcome);
          if (outcome.result === 'failed') {
            // The outcome's `message` goes under `error`: spread as it is, it would replace the
            // line's own message. Masked, as everything recorded from a platform is.
            const { message: error, ...fields } = outcome;
            logger?.warn('change recorded as failed', {
              ...fields,
              ...(error === undefined ? {} : { error: redactPersonalData(error) }),
              messageId: record.messageId,
            });
          }
        } catch (e) {
          logger?.warn('change will be retried', {
            kind: message.kind,
            id: message.id,
            messageId: record.messageId,
            receiveCount: record.attributes?.ApproximateReceiveCount,
            error: errorText(e),
          });
          throw e;
        }
      });
    };
    const processor = new SqsFifoPartialProcessorAsync();
    const response = await processPartialResponse(event, handleRecord, processor, {
      skipGroupOnError: true,
      throwOnFullBatchFailure: false,
    });
    if (notStarted > 0) {
      logger?.warn('deadline near: records left for a later receive', { notStarted, startReserveMs });
    }
    return { response, outcomes, notStarted };
  };
}
