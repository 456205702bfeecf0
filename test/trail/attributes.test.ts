import { describe, expect, it } from 'vitest';
import { trailAttributes, trailFromAttributes } from '../../lib/trail/attributes';

describe('a trail as message attributes', () => {
  it('round-trips through both spellings of a received attribute', () => {
    const attributes = trailAttributes({ correlationId: 'abc', source: 'failed_push_sweep', runId: 'run-1' });
    expect(attributes).toEqual({ correlationId: 'abc', triggerSource: 'failed_push_sweep', runId: 'run-1' });
    const lambda = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { stringValue: v }]));
    const sdk = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { StringValue: v }]));
    expect(trailFromAttributes(lambda)).toEqual({ correlationId: 'abc', source: 'failed_push_sweep', runId: 'run-1' });
    expect(trailFromAttributes(sdk)).toEqual({ correlationId: 'abc', source: 'failed_push_sweep', runId: 'run-1' });
  });

  it('sends nothing without a trail, and reads none from a message without one or with an unknown source', () => {
    expect(trailAttributes(undefined)).toEqual({});
    expect(trailFromAttributes(undefined)).toBeUndefined();
    expect(trailFromAttributes({})).toBeUndefined();
    expect(trailFromAttributes({ correlationId: { stringValue: 'x' } })).toBeUndefined();
    expect(trailFromAttributes({ correlationId: { stringValue: 'x' }, triggerSource: { stringValue: 'elsewhere' } })).toBeUndefined();
    expect(trailFromAttributes({ correlationId: { stringValue: '' }, triggerSource: { stringValue: 'push' } })).toBeUndefined();
  });
});
