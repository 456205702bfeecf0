/**
 * The sync worker's batch logic, shared by the Lambda (handlers/sync.ts) and the local loop:
 * SQS FIFO batches with partial batch responses. A failed record fails the rest of its message
 * group in the batch (`skipGroupOnError`), so one entity's changes never overtake each other,
 * while other entities go on.
 *
 * Each record is handled under its trail (lib/trail): the correlation id its message attributes
 * carry (else the SQS message id), so every line logged while it is synced names it.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger } from '../log';
import { decodeMessage } from '../messages';
import { trailFromAttributes } from '../trail/attributes';
import { runWithTrail } from '../trail/context';
import { trailOfMessage } from '../trail/trail';
import type { EntitySync, SyncOutcome } from './entity';
import { errorText } from './error-text';

export interface SyncBatchResult {
  response: SQSBatchResponse;
  outcomes: SyncOutcome[];
}

export function createSyncBatchProcessor(sync: EntitySync, logger?: Logger): (event: SQSEvent) => Promise<SyncBatchResult> {
  return async (event) => {
    const outcomes: SyncOutcome[] = [];
    const handleRecord = async (record: SQSRecord): Promise<void> => {
      // A body we cannot read is thrown, not dropped: after maxReceiveCount it rests in the DLQ.
      const message = decodeMessage(record.body);
      const trail = trailFromAttributes(record.messageAttributes);
      if (trail) message.trail = trail;
      return runWithTrail(trailOfMessage(message, record.messageId), async () => {
        try {
          const outcome = await sync.handle(message);
          outcomes.push(outcome);
          if (outcome.result === 'failed') {
            logger?.warn('change recorded as failed', { ...outcome, messageId: record.messageId });
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
    return { response, outcomes };
  };
}
