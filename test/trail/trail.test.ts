import { describe, expect, it } from 'vitest';
import type { ChangeMessage } from '../../lib/ports';
import { describeTrigger, entityRef, eventCorrelationId, eventTimeText, reconcileTrail, trailOfMessage } from '../../lib/trail/trail';

const event = { eventType: 'user_modify_org', eventTime: 1_700_000_000_000, corpId: 'dingcorp', entities: ['user:zhangsan', 'user:lisi'] };

describe('eventCorrelationId', () => {
  it('is the same for the same event, whatever the order of its ids, and 24 hex digits', () => {
    const id = eventCorrelationId(event);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(eventCorrelationId({ ...event, entities: ['user:lisi', 'user:zhangsan'] })).toBe(id);
  });

  it('differs when anything the event says differs', () => {
    const id = eventCorrelationId(event);
    for (const other of [
      { ...event, eventType: 'user_add_org' },
      { ...event, eventTime: event.eventTime + 1 },
      { ...event, corpId: 'other' },
      { ...event, entities: ['user:zhangsan'] },
      { ...event, entities: ['dept:zhangsan', 'user:lisi'] },
    ]) {
      expect(eventCorrelationId(other)).not.toBe(id);
    }
  });
});

describe('trailOfMessage', () => {
  const message: ChangeMessage = { kind: 'user', id: 'zhangsan', eventType: 'user_modify_org', eventTime: 1_700_000_000_000, corpId: 'c' };

  it('uses the trail the message carries, with its event type and time as the trigger', () => {
    const trail = trailOfMessage({ ...message, trail: { correlationId: 'abc', source: 'failed_push_sweep', runId: 'run-1' } }, 'msg-1');
    expect(trail).toEqual({
      correlationId: 'abc',
      trigger: { source: 'failed_push_sweep', eventType: 'user_modify_org', eventTime: '2023-11-14T22:13:20.000Z', runId: 'run-1' },
    });
  });

  it('falls back to the queue message id for a message that carries no trail', () => {
    expect(trailOfMessage(message, 'msg-1')).toEqual({
      correlationId: 'msg-1',
      trigger: { source: 'queue', eventType: 'user_modify_org', eventTime: '2023-11-14T22:13:20.000Z' },
    });
  });

  it('leaves the event time out when DingTalk gave none', () => {
    expect(trailOfMessage({ ...message, eventTime: 0 }, 'm').trigger.eventTime).toBeUndefined();
    expect(eventTimeText(Number.NaN)).toBeUndefined();
  });
});

describe('naming', () => {
  it('names entities as kind:id and describes triggers in one line', () => {
    expect(entityRef('dept', '42')).toBe('dept:42');
    expect(describeTrigger(reconcileTrail('run-9').trigger)).toBe('reconcile run run-9');
    expect(describeTrigger({ source: 'push', eventType: 'user_add_org', eventTime: '2026-01-01T00:00:00.000Z' })).toBe(
      'user_add_org @ 2026-01-01T00:00:00.000Z',
    );
    expect(describeTrigger({ source: 'failed_push_sweep', eventType: 'user_add_org', runId: 'r' })).toBe('user_add_org (failed-push sweep) run r');
    expect(describeTrigger({ source: 'direct' })).toBe('direct');
  });
});
