/**
 * The receiver through its handler, as API Gateway calls it: every published request vector is
 * answered, and every single-field tamper gets the right 4xx and enqueues nothing.
 */
import { createCipheriv } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import vectors from '../../../shared/vectors/dingtalk-callback.json';
import { loadCallbackConfig } from '../../lib/config';
import { decodeAesKey, decryptMessage, encryptMessage, sign, verifySignature } from '../../lib/dingtalk/crypto';
import { createCallbackHandler } from '../../lib/dingtalk/receiver';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { createMemoryLogger } from '../../lib/log';
import { callbackEvent } from '../support/http-api-event';

const TOKEN = 'receivertoken';
const AES_KEY = 'Zq8mN3vR7tY1uI5oP9aS2dF6gH0jK4lX8cV3bN7mQ1w';
const OWNER = 'dingreceiverapp';
const NOW = 1_700_000_000_000;
const key = decodeAesKey(AES_KEY);

function setup(env: Record<string, string> = {}) {
  const config = loadCallbackConfig({ DINGTALK_TOKEN: TOKEN, DINGTALK_AES_KEY: AES_KEY, DINGTALK_OWNER_KEY: OWNER, ...env });
  const queue = new InProcessQueue();
  const logger = createMemoryLogger();
  const handler = createCallbackHandler({ config, queue, logger, clock: { now: () => NOW } });
  return { handler, queue, logger };
}

interface Req {
  query: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}

function request(plaintext: string, opts: { timestamp?: string; nonce?: string; token?: string; owner?: string; encrypt?: string } = {}): Req {
  const timestamp = opts.timestamp ?? String(NOW);
  const nonce = opts.nonce ?? 'abcd1234';
  const encrypt = opts.encrypt ?? encryptMessage(plaintext, key, opts.owner ?? OWNER);
  const signature = sign(opts.token ?? TOKEN, timestamp, nonce, encrypt);
  return { query: { msg_signature: signature, signature, timestamp, nonce }, body: JSON.stringify({ encrypt }) };
}

function event(r: Req): APIGatewayProxyEventV2 {
  return callbackEvent(r.query, r.body, { isBase64Encoded: r.isBase64Encoded });
}

/** Re-signs a request whose `encrypt` was changed, as an attacker who knew the token could. */
function resigned(r: Req, encrypt: string): Req {
  const sig = sign(TOKEN, r.query.timestamp!, r.query.nonce!, encrypt);
  return { query: { ...r.query, msg_signature: sig, signature: sig }, body: JSON.stringify({ encrypt }) };
}

const USER_EVENT = JSON.stringify({ EventType: 'user_add_org', CorpId: 'dingcorp', UserId: ['zhangsan', 'lisi'], TimeStamp: String(NOW) });

function expectSuccessReply(res: { statusCode?: number; body?: string }, token = TOKEN, k = key, owner = OWNER) {
  expect(res.statusCode).toBe(200);
  const reply = JSON.parse(res.body!);
  expect(Object.keys(reply).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
  expect(reply.nonce).toMatch(/^[A-Za-z0-9]{16}$/);
  expect(verifySignature(token, reply.timeStamp, reply.nonce, reply.encrypt, reply.msg_signature)).toBe(true);
  expect(decryptMessage(reply.encrypt, k, owner)).toBe('success');
}

describe('accepted requests', () => {
  it.each(vectors.requests.map((v) => [v.name, v] as const))('published vector: %s', async (_n, v) => {
    const config = loadCallbackConfig({ DINGTALK_TOKEN: v.token, DINGTALK_AES_KEY: v.aesKey, DINGTALK_OWNER_KEY: v.ownerKey, CALLBACK_MAX_SKEW_SECONDS: '0' });
    const queue = new InProcessQueue();
    const handler = createCallbackHandler({ config, queue });
    const res = await handler(event({ query: { msg_signature: v.msg_signature, timestamp: v.timestamp, nonce: v.nonce }, body: JSON.stringify({ encrypt: v.encrypt }) }));
    expectSuccessReply(res, v.token, decodeAesKey(v.aesKey), v.ownerKey);
    expect(queue.depth).toBe(0); // URL checks enqueue nothing
  });

  it('enqueues one message per user and replies success', async () => {
    const { handler, queue } = setup();
    expectSuccessReply(await handler(event(request(USER_EVENT))));
    expect(queue.depth).toBe(2);
    expect(queue.receive(10).map((m) => m.groupId)).toEqual(['user:zhangsan', 'user:lisi']);
  });

  it('accepts only `signature` and `timeStamp` when `msg_signature` and `timestamp` are absent', async () => {
    const { handler, queue } = setup();
    const r = request(USER_EVENT);
    const res = await handler(event({ ...r, query: { signature: r.query.signature!, timeStamp: r.query.timestamp!, nonce: r.query.nonce! } }));
    expectSuccessReply(res);
    expect(queue.depth).toBe(2);
  });

  it('decodes a base64-encoded body (API Gateway isBase64Encoded)', async () => {
    const { handler, queue } = setup();
    const r = request(USER_EVENT);
    expectSuccessReply(await handler(event({ ...r, body: Buffer.from(r.body).toString('base64'), isBase64Encoded: true })));
    expect(queue.depth).toBe(2);
  });

  it('acknowledges ignored and unknown events without enqueueing', async () => {
    const { handler, queue } = setup();
    expectSuccessReply(await handler(event(request('{"EventType":"org_change","CorpId":"c"}'))));
    expectSuccessReply(await handler(event(request('{"EventType":"something_new","CorpId":"c"}'))));
    expect(queue.depth).toBe(0);
  });

  it('round-trips an event with Chinese text and many ids', async () => {
    const { handler, queue } = setup();
    const ids = Array.from({ length: 25 }, (_, i) => `用户${i}`);
    expectSuccessReply(await handler(event(request(JSON.stringify({ EventType: 'user_modify_org', CorpId: '钉钉', UserId: ids })))));
    expect(queue.depth).toBe(25);
  });
});

describe('rejected requests enqueue nothing', () => {
  const base = () => request(USER_EVENT);
  const flipByte = (encrypt: string, index: number) => {
    const b = Buffer.from(encrypt, 'base64');
    b[index] = b[index]! ^ 0x01;
    return b.toString('base64');
  };
  const cbc = (plain: Buffer) => {
    const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    return Buffer.concat([c.update(plain), c.final()]).toString('base64');
  };
  const framed = (msg: string, owner: string, padByte?: number) => {
    const m = Buffer.from(msg);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(m.length);
    const f = Buffer.concat([Buffer.alloc(16, 1), len, m, Buffer.from(owner)]);
    const n = 32 - (f.length % 32);
    return Buffer.concat([f, Buffer.alloc(n, padByte ?? n)]);
  };

  it.each<[string, () => Req, number]>([
    ['missing signature', () => { const r = base(); const { msg_signature: _a, signature: _b, ...q } = r.query; return { ...r, query: q }; }, 400],
    ['missing timestamp', () => { const r = base(); const { timestamp: _t, ...q } = r.query; return { ...r, query: q }; }, 400],
    ['missing nonce', () => { const r = base(); const { nonce: _n, ...q } = r.query; return { ...r, query: q }; }, 400],
    ['tampered signature', () => { const r = base(); return { ...r, query: { ...r.query, msg_signature: r.query.msg_signature!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) } }; }, 401],
    ['tampered timestamp', () => { const r = base(); return { ...r, query: { ...r.query, timestamp: String(NOW + 1) } }; }, 401],
    ['tampered nonce', () => { const r = base(); return { ...r, query: { ...r.query, nonce: 'zzzz9999' } }; }, 401],
    ['wrong token', () => request(USER_EVENT, { token: 'sometoken' }), 401],
    ['tampered ciphertext, not re-signed', () => { const r = base(); return { ...r, body: JSON.stringify({ encrypt: flipByte(JSON.parse(r.body).encrypt, 40) }) }; }, 401],
    ['stale timestamp', () => request(USER_EVENT, { timestamp: String(NOW - 301_000) }), 401],
    ['timestamp from the future', () => request(USER_EVENT, { timestamp: String(NOW + 301_000) }), 401],
    ['non-numeric timestamp', () => request(USER_EVENT, { timestamp: 'yesterday' }), 400],
    ['oversize body', () => { const r = base(); return { ...r, body: JSON.stringify({ encrypt: JSON.parse(r.body).encrypt, pad: 'x'.repeat(70_000) }) }; }, 413],
    ['non-JSON body', () => ({ ...base(), body: 'encrypt=abc' }), 400],
    ['missing encrypt', () => ({ ...base(), body: '{"data":"x"}' }), 400],
    ['encrypt not a string', () => ({ ...base(), body: '{"encrypt":42}' }), 400],
    ['empty body', () => ({ ...base(), body: '' }), 400],
    ['wrong owner key', () => request(USER_EVENT, { owner: 'dingotherapp' }), 403],
    // Re-signed tampers: the signature passes, so decryption must catch them.
    ['ciphertext not base64 (re-signed)', () => resigned(base(), '***not-base64***'), 400],
    ['ciphertext truncated to a non-block length (re-signed)', () => { const r = base(); const b = Buffer.from(JSON.parse(r.body).encrypt, 'base64'); return resigned(r, b.subarray(0, b.length - 3).toString('base64')); }, 400],
    ['padding byte 0 (re-signed)', () => resigned(base(), cbc(framed(USER_EVENT, OWNER, 0))), 400],
    ['padding byte above 32 (re-signed)', () => resigned(base(), cbc(framed(USER_EVENT, OWNER, 40))), 400],
    // A flipped bit in the last ciphertext block garbles the last plaintext block: the padding.
    ['last block tampered (re-signed)', () => { const r = base(); const e = JSON.parse(r.body).encrypt; return resigned(r, flipByte(e, Buffer.from(e, 'base64').length - 20)); }, 400],
    // Flipping a bit of ciphertext block 0 flips the same bit of plaintext block 1, here inside
    // the length field (bytes 16-19): the frame no longer adds up.
    ['length field tampered (re-signed)', () => { const r = base(); return resigned(r, flipByte(JSON.parse(r.body).encrypt, 0)); }, 400],
    ['message bytes tampered into invalid JSON (re-signed)', () => resigned(base(), cbc(framed('{"EventType":"user_add_org",', OWNER))), 400],
    ['valid JSON but no ids (re-signed)', () => resigned(base(), cbc(framed('{"EventType":"user_add_org","CorpId":"c"}', OWNER))), 400],
    ['trailer tampered (re-signed)', () => resigned(base(), cbc(framed(USER_EVENT, OWNER.replace('app', 'apq')))), 403],
  ])('%s → %i', async (_name, make, status) => {
    const { handler, queue, logger } = setup();
    const res = await handler(event(make()));
    expect(res.statusCode).toBe(status);
    expect(res.body).not.toContain('success');
    expect(JSON.parse(res.body!).error).toBeTypeOf('string');
    expect(queue.depth).toBe(0);
    const logged = JSON.stringify(logger.entries);
    expect(logger.entries.filter((e) => e.message === 'callback rejected')).toHaveLength(1);
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain(AES_KEY);
    expect(logged).not.toContain('zhangsan'); // the decrypted plaintext of a rejected request
  });

  it('a tampered first ciphertext block (the random prefix) also flips a message bit: 400', async () => {
    // CBC: flipping ciphertext block 0 garbles plaintext block 0 (random, not checked) and flips
    // the same bit in plaintext block 1. Bit 0 of byte 15 lands in byte 31 of the frame, inside
    // the message: the frame still decrypts, but the JSON no longer parses.
    const { handler, queue } = setup();
    const r = base();
    const res = await handler(event(resigned(r, flipByte(JSON.parse(r.body).encrypt, 15))));
    expect(res.statusCode).toBe(400);
    expect(queue.depth).toBe(0);
  });

  it('answers 503 without success when the queue does not accept every message', async () => {
    const { handler, queue, logger } = setup();
    queue.rejectNextEnqueues = 1;
    const res = await handler(event(request(USER_EVENT)));
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toContain('encrypt');
    expect(logger.entries.some((e) => e.level === 'error' && /queue/.test(e.message))).toBe(true);
  });

  it('logs exactly what failed, without secrets', async () => {
    const { handler, logger } = setup();
    await handler(event(request(USER_EVENT, { owner: 'dingotherapp' })));
    const entry = logger.entries.find((e) => e.message === 'callback rejected')!;
    expect(entry).toMatchObject({ status: 403, reason: 'owner_key_mismatch', requestId: 'req-1' });
    expect(String(entry.detail)).toContain('dingotherapp');
  });

  it('with the freshness window disabled, an old timestamp is accepted', async () => {
    const { handler } = setup({ CALLBACK_MAX_SKEW_SECONDS: '0' });
    expectSuccessReply(await handler(event(request(USER_EVENT, { timestamp: '1608001896814' }))));
  });
});
