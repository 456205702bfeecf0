/**
 * A message's trail as SQS message attributes, and back: the correlation id travels beside the
 * body, so the worker's log and the entity's history carry it. Pure: no I/O.
 */
import type { MessageTrail } from './trail';

/** SQS allows 10 attributes per message; these are the ones this service sets. */
const CORRELATION_ID = 'correlationId';
const SOURCE = 'triggerSource';
const RUN_ID = 'runId';

/** The attributes to send with a message, as name → string value. */
export function trailAttributes(trail: MessageTrail | undefined): Record<string, string> {
  if (!trail) return {};
  const out: Record<string, string> = { [CORRELATION_ID]: trail.correlationId, [SOURCE]: trail.source };
  if (trail.runId) out[RUN_ID] = trail.runId;
  return out;
}

/** SQS's shape of a received attribute (both the SDK's and the Lambda event's spelling). */
type ReceivedAttribute = { StringValue?: string; stringValue?: string };

/** The trail a received message carried, or undefined when it carried none (or an unknown source). */
export function trailFromAttributes(attributes: Record<string, ReceivedAttribute | undefined> | undefined): MessageTrail | undefined {
  const read = (name: string) => {
    const a = attributes?.[name];
    return a?.stringValue ?? a?.StringValue;
  };
  const correlationId = read(CORRELATION_ID);
  const source = read(SOURCE);
  if (!correlationId || (source !== 'push' && source !== 'failed_push_sweep')) return undefined;
  const trail: MessageTrail = { correlationId, source };
  const runId = read(RUN_ID);
  if (runId) trail.runId = runId;
  return trail;
}
