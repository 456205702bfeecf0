/**
 * The callback's metrics, recorded by the receiver: accepted, rejected by the log's reason,
 * server errors (the queue refused) and the messages enqueued.
 */
import { describe, expect, it } from 'vitest';
import { loadCallbackConfig } from '../../lib/config';
import { signedRequest } from '../../lib/dingtalk/push';
import { createCallbackHandler } from '../../lib/dingtalk/receiver';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { createMemoryMetrics } from '../../lib/metrics/metrics';
import { callbackEvent } from '../support/http-api-event';

const creds = { token: 'metricstoken', aesKey: 'Zq8mN3vR7tY1uI5oP9aS2dF6gH0jK4lX8cV3bN7mQ1w', ownerKey: 'dingmetricsapp' };

function setup() {
  const queue = new InProcessQueue();
  const metrics = createMemoryMetrics();
  const config = loadCallbackConfig({
    DINGTALK_TOKEN: creds.token,
    DINGTALK_AES_KEY: creds.aesKey,
    DINGTALK_OWNER_KEY: creds.ownerKey,
    CALLBACK_MAX_SKEW_SECONDS: '0',
  });
  return { queue, metrics, handler: createCallbackHandler({ config, queue, metrics }) };
}

const event = (plaintext: object, over: Partial<typeof creds> = {}) => {
  const { query, body } = signedRequest(JSON.stringify(plaintext), { ...creds, ...over });
  return callbackEvent(query, body);
};

describe('callback metrics', () => {
  it('count an accepted push and its messages, and a URL check as accepted with none', async () => {
    const s = setup();
    await s.handler(event({ EventType: 'user_add_org', CorpId: 'c', UserId: ['a', 'b'], TimeStamp: '1' }));
    await s.handler(event({ EventType: 'check_url' }));
    expect(s.metrics.sum('CallbackAccepted')).toBe(2);
    expect(s.metrics.sum('MessagesEnqueued')).toBe(2);
    expect(s.metrics.sum('CallbackRejected')).toBe(0);
  });

  it('count rejections by reason: a wrong token, a wrong owner key', async () => {
    const s = setup();
    expect((await s.handler(event({ EventType: 'check_url' }, { token: 'othertoken' }))).statusCode).toBe(401);
    expect((await s.handler(event({ EventType: 'check_url' }, { ownerKey: 'dingother' }))).statusCode).toBe(403);
    expect(s.metrics.entries).toEqual([
      { name: 'CallbackRejected', unit: 'Count', value: 1, dimensions: { Reason: 'bad_signature' } },
      { name: 'CallbackRejected', unit: 'Count', value: 1, dimensions: { Reason: 'owner_key_mismatch' } },
    ]);
  });

  it('count a 503 (the queue refused) as a server error, not as accepted', async () => {
    const s = setup();
    s.queue.rejectNextEnqueues = 1;
    expect((await s.handler(event({ EventType: 'user_add_org', CorpId: 'c', UserId: ['a'], TimeStamp: '1' }))).statusCode).toBe(503);
    expect(s.metrics.entries).toEqual([{ name: 'CallbackServerErrors', unit: 'Count', value: 1, dimensions: {} }]);
  });
});
