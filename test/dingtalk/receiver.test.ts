/**
 * The receiver through its handler, as API Gateway calls it: every published request vector is
 * answered with a valid encrypted `success`, and every single-field tamper gets the right 4xx,
 * enqueues nothing and is logged once, precisely and without secrets.
 */
import { createCipheriv } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { loadCallbackConfig } from '../../lib/config';
import { decodeAesKey, decryptMessage, encryptMessage, sign, verifySignature } from '../../lib/dingtalk/crypto';
import { createCallbackHandler } from '../../lib/dingtalk/receiver';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { createMemoryLogger } from '../../lib/log';
import { decodeMessage } from '../../lib/messages';
import vectors from '../fixtures/dingtalk-callback.json';
import { callbackEvent } from '../support/http-api-event';

const TOKEN = 'receivertoken';
const AES_KEY = 'Zq8mN3vR7tY1uI5oP9aS2dF6gH0jK4lX8cV3bN7mQ1w';
const OWNER = 'dingreceiverapp';
const NOW = 1_700_000_000_000;
const key = decodeAesKey(AES_KEY);
/** A fixed random prefix makes every ciphertext, and so every tamper's outcome, reproducible. */
const FIXED_RANDOM = Buffer.alloc(16, 0x5a);

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

interface RequestOptions {
  timestamp?: string;
  nonce?: string;
  token?: string;
  owner?: string;
  random?: Buffer;
}

/** What DingTalk sends for `plaintext`: both signature names, the timestamp, a nonce, `{encrypt}`. */
function request(plaintext: string, opts: RequestOptions = {}): Req {
  const timestamp = opts.timestamp ?? String(NOW);
  const nonce = opts.nonce ?? 'abcd1234';
  const encrypt = encryptMessage(plaintext, key, opts.owner ?? OWNER, opts.random ?? FIXED_RANDOM);
  const signature = sign(opts.token ?? TOKEN, timestamp, nonce, encrypt);
  return { query: { msg_signature: signature, signature, timestamp, nonce }, body: JSON.stringify({ encrypt }) };
}

function event(r: Req): APIGatewayProxyEventV2 {
  return callbackEvent(r.query, r.body, { isBase64Encoded: r.isBase64Encoded });
}

const encryptOf = (r: Req): string => (JSON.parse(r.body) as { encrypt: string }).encrypt;

/** The request with another `encrypt`, its signatures left as they were. */
function withEncrypt(r: Req, encrypt: string): Req {
  return { ...r, body: JSON.stringify({ encrypt }) };
}

/** The request with another `encrypt`, re-signed as an attacker who knew the token (not the key) could. */
function resigned(r: Req, encrypt: string): Req {
  const sig = sign(TOKEN, r.query.timestamp!, r.query.nonce!, encrypt);
  return { query: { ...r.query, msg_signature: sig, signature: sig }, body: JSON.stringify({ encrypt }) };
}

/** Flips the lowest bit of one ciphertext byte. */
function flipBit(encrypt: string, byteIndex: number): string {
  const b = Buffer.from(encrypt, 'base64');
  if (byteIndex >= b.length) throw new RangeError(`ciphertext has only ${b.length} bytes`);
  b[byteIndex] = b[byteIndex]! ^ 0x01;
  return b.toString('base64');
}

/** The callback cipher without its framing, for hand-made (malformed) frames. */
function cbc(plain: Buffer): string {
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

/** random | length | msg | owner, padded to 32 bytes; `padByte` overrides the padding's value. */
function framed(msg: string, owner: string, opts: { padByte?: number; length?: number; padTo?: number } = {}): Buffer {
  const m = Buffer.from(msg);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(opts.length ?? m.length);
  const f = Buffer.concat([FIXED_RANDOM, len, m, Buffer.from(owner)]);
  const n = 32 - (f.length % 32);
  return Buffer.concat([f, Buffer.alloc(n, opts.padByte ?? n)]);
}

const USER_EVENT = JSON.stringify({ EventType: 'user_add_org', CorpId: 'dingcorp', UserId: ['zhangsan', 'lisi'], TimeStamp: String(NOW) });

function expectSuccessReply(res: APIGatewayProxyStructuredResultV2, token = TOKEN, k = key, owner = OWNER) {
  expect(res.statusCode).toBe(200);
  expect(res.headers?.['content-type']).toBe('application/json');
  const reply = JSON.parse(res.body!) as Record<string, string>;
  expect(Object.keys(reply).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
  expect(reply.nonce).toMatch(/^[A-Za-z0-9]{16}$/);
  expect(reply.timeStamp).toBe(String(NOW));
  expect(verifySignature(token, reply.timeStamp!, reply.nonce!, reply.encrypt!, reply.msg_signature!)).toBe(true);
  expect(decryptMessage(reply.encrypt!, k, owner)).toBe('success');
}

/** A table row whose title states the expected status. */
function row<F>(name: string, make: F, status: number, reason: string): [string, F, number, string] {
  return [`${name} → ${status}`, make, status, reason];
}

const tamper = (name: string, change: (encrypt: string) => string, status: number, reason: string) => row(`${name}, re-signed`, change, status, reason);

type Setup = ReturnType<typeof setup>;

/** A rejection: the status, a generic body, nothing enqueued, one precise log line, no secrets. */
function expectRejected(res: APIGatewayProxyStructuredResultV2, s: Setup, status: number, reason: string, plaintext = USER_EVENT) {
  expect(res.statusCode).toBe(status);
  expect(res.headers?.['content-type']).toBe('application/json');
  const body = JSON.parse(res.body!) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error']);
  expect(res.body).not.toMatch(/success|encrypt/);
  expect(s.queue.depth).toBe(0);
  const rejections = s.logger.entries.filter((e) => e.message === 'callback rejected');
  expect(rejections).toHaveLength(1);
  expect(rejections[0]).toMatchObject({ level: 'warn', status, reason, requestId: 'req-1' });
  expectNoSecretsLogged(s, plaintext);
}

function expectNoSecretsLogged(s: Setup, plaintext: string) {
  const logged = JSON.stringify(s.logger.entries);
  for (const secret of [TOKEN, AES_KEY, key.toString('base64'), key.toString('hex'), plaintext, 'zhangsan']) {
    expect(logged).not.toContain(secret);
  }
}

describe('accepted requests', () => {
  it.each(vectors.requests.map((v) => [v.name, v] as const))('published vector: %s', async (_n, v) => {
    const config = loadCallbackConfig({ DINGTALK_TOKEN: v.token, DINGTALK_AES_KEY: v.aesKey, DINGTALK_OWNER_KEY: v.ownerKey, CALLBACK_MAX_SKEW_SECONDS: '0' });
    const queue = new InProcessQueue();
    const logger = createMemoryLogger();
    const handler = createCallbackHandler({ config, queue, logger, clock: { now: () => NOW } });
    const res = await handler(
      callbackEvent({ msg_signature: v.msg_signature, timestamp: v.timestamp, nonce: v.nonce }, JSON.stringify({ encrypt: v.encrypt })),
    );
    expectSuccessReply(res, v.token, decodeAesKey(v.aesKey), v.ownerKey);
    expect(queue.depth).toBe(0); // the vectors are URL checks
    expect(logger.entries).toEqual([expect.objectContaining({ message: 'callback acknowledged without messages', reason: 'url_check' })]);
  });

  it('enqueues one message per user, logs what it accepted, and replies success', async () => {
    const { handler, queue, logger } = setup();
    expectSuccessReply(await handler(event(request(USER_EVENT))));
    const received = queue.receive(10);
    expect(received.map((m) => decodeMessage(m.body))).toEqual([
      { kind: 'user', id: 'zhangsan', eventType: 'user_add_org', eventTime: NOW, corpId: 'dingcorp' },
      { kind: 'user', id: 'lisi', eventType: 'user_add_org', eventTime: NOW, corpId: 'dingcorp' },
    ]);
    // One correlation id for the push, beside each message's body and in the log line.
    const correlationId = received[0]!.attributes.correlationId!;
    expect(correlationId).toMatch(/^[0-9a-f]{24}$/);
    expect(received.map((m) => m.attributes)).toEqual([
      { correlationId, triggerSource: 'push' },
      { correlationId, triggerSource: 'push' },
    ]);
    expect(logger.entries).toEqual([
      {
        level: 'info',
        message: 'callback accepted',
        requestId: 'req-1',
        eventType: 'user_add_org',
        corpId: 'dingcorp',
        correlationId,
        eventTime: new Date(NOW).toISOString(),
        messages: 2,
      },
    ]);
  });

  it('accepts `signature` and `timeStamp` when `msg_signature` and `timestamp` are absent or empty', async () => {
    const { handler, queue } = setup();
    const r = request(USER_EVENT);
    const [signature, timestamp, nonce] = [r.query.signature!, r.query.timestamp!, r.query.nonce!];
    expectSuccessReply(await handler(event({ ...r, query: { signature, timeStamp: timestamp, nonce } })));
    expectSuccessReply(await handler(event({ ...r, query: { msg_signature: '', signature, timestamp: '', timeStamp: timestamp, nonce } })));
    expect(queue.depth).toBe(2); // the second is the same event: deduplicated
  });

  it('decodes a base64-encoded body (API Gateway isBase64Encoded)', async () => {
    const { handler, queue } = setup();
    const r = request(USER_EVENT);
    expectSuccessReply(await handler(event({ ...r, body: Buffer.from(r.body).toString('base64'), isBase64Encoded: true })));
    expect(queue.depth).toBe(2);
  });

  it('takes any JSON content type, and a request without one (a proxy may drop it)', async () => {
    for (const contentType of ['application/json; charset=utf-8', 'text/json', null]) {
      const { handler, queue } = setup();
      const r = request(USER_EVENT);
      expectSuccessReply(await handler(callbackEvent(r.query, r.body, { contentType })));
      expect(queue.depth).toBe(2);
    }
  });

  it('refuses a body declared as anything but JSON with 415, before reading it', async () => {
    for (const contentType of ['text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const { handler, queue, logger } = setup();
      const r = request(USER_EVENT);
      const res = await handler(callbackEvent(r.query, r.body, { contentType }));
      expect(res.statusCode).toBe(415);
      expect(res.body).toBe('{"error":"unsupported media type"}');
      expect(queue.depth).toBe(0);
      expect(logger.entries.find((e) => e.message === 'callback rejected')).toMatchObject({ reason: 'unsupported_content_type' });
    }
  });

  it('acknowledges ignored and unknown events without enqueueing', async () => {
    const { handler, queue, logger } = setup();
    expectSuccessReply(await handler(event(request('{"EventType":"org_change","CorpId":"c"}'))));
    expectSuccessReply(await handler(event(request('{"EventType":"something_new","CorpId":"c"}'))));
    expect(queue.depth).toBe(0);
    expect(logger.entries.map((e) => [e.eventType, e.reason])).toEqual([
      ['org_change', 'ignored_event'],
      ['something_new', 'unknown_event'],
    ]);
  });

  it('round-trips an event with Chinese text and many ids', async () => {
    const { handler, queue } = setup();
    const ids = Array.from({ length: 25 }, (_, i) => `user${i}`);
    const diffInfo = { name: { before: '张三', after: '张三丰' }, title: '研发工程师' };
    expectSuccessReply(await handler(event(request(JSON.stringify({ EventType: 'user_modify_org', CorpId: 'ding钉钉', UserId: ids, diffInfo })))));
    const got = queue.receive(25).map((m) => decodeMessage(m.body));
    expect(got.map((m) => m.id)).toEqual(ids);
    expect(got[0]!.corpId).toBe('ding钉钉');
  });

  it('a DingTalk retry (new random prefix, nonce and timestamp, same event) adds nothing to the queue', async () => {
    const { handler, queue } = setup();
    expectSuccessReply(await handler(event(request(USER_EVENT))));
    const retry = request(USER_EVENT, { random: Buffer.alloc(16, 0x11), nonce: 'retry001', timestamp: String(NOW + 10_000) });
    expect(encryptOf(retry)).not.toBe(encryptOf(request(USER_EVENT)));
    expectSuccessReply(await handler(event(retry)));
    expect(queue.depth).toBe(2);
  });

  it('accepts a timestamp exactly at the edge of the freshness window', async () => {
    const { handler } = setup();
    expectSuccessReply(await handler(event(request(USER_EVENT, { timestamp: String(NOW - 300_000) }))));
  });

  it('with the freshness window disabled, an old timestamp is accepted', async () => {
    const { handler } = setup({ CALLBACK_MAX_SKEW_SECONDS: '0' });
    expectSuccessReply(await handler(event(request(USER_EVENT, { timestamp: '1608001896814' }))));
  });
});

describe('rejected before decryption', () => {
  const base = () => request(USER_EVENT);
  const without = (r: Req, ...names: string[]): Req => ({ ...r, query: Object.fromEntries(Object.entries(r.query).filter(([k]) => !names.includes(k))) });

  it.each([
    row('missing signature', () => without(base(), 'msg_signature', 'signature'), 400, 'missing_parameters'),
    row('missing timestamp', () => without(base(), 'timestamp'), 400, 'missing_parameters'),
    row('missing nonce', () => without(base(), 'nonce'), 400, 'missing_parameters'),
    row('no query at all', () => ({ ...base(), query: {} }), 400, 'missing_parameters'),
    row(
      'tampered signature',
      () => {
        const r = base();
        const s = r.query.msg_signature!;
        const t = s.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
        return { ...r, query: { ...r.query, msg_signature: t, signature: t } };
      },
      401,
      'bad_signature',
    ),
    row(
      'signature of the wrong length',
      () => {
        const r = base();
        return { ...r, query: { ...r.query, msg_signature: 'abc', signature: 'abc' } };
      },
      401,
      'bad_signature',
    ),
    row(
      'tampered timestamp',
      () => {
        const r = base();
        return { ...r, query: { ...r.query, timestamp: String(NOW + 1) } };
      },
      401,
      'bad_signature',
    ),
    row(
      'tampered nonce',
      () => {
        const r = base();
        return { ...r, query: { ...r.query, nonce: 'zzzz9999' } };
      },
      401,
      'bad_signature',
    ),
    row('wrong token', () => request(USER_EVENT, { token: 'sometoken' }), 401, 'bad_signature'),
    row('stale timestamp (window on)', () => request(USER_EVENT, { timestamp: String(NOW - 300_001) }), 401, 'stale_timestamp'),
    row('timestamp from the future (window on)', () => request(USER_EVENT, { timestamp: String(NOW + 301_000) }), 401, 'stale_timestamp'),
    // Timestamps are epoch milliseconds; one in seconds is 1.7 billion seconds in the past.
    row('timestamp in seconds (window on)', () => request(USER_EVENT, { timestamp: String(NOW / 1000) }), 401, 'stale_timestamp'),
    row('non-numeric timestamp (window on)', () => request(USER_EVENT, { timestamp: 'yesterday' }), 400, 'bad_timestamp'),
    row(
      'oversize body',
      () => {
        const r = base();
        return { ...r, body: JSON.stringify({ encrypt: encryptOf(r), pad: 'x'.repeat(70_000) }) };
      },
      413,
      'body_too_large',
    ),
    row(
      'oversize base64-encoded body',
      () => {
        const r = base();
        return { ...r, body: Buffer.from(JSON.stringify({ encrypt: encryptOf(r), pad: 'x'.repeat(70_000) })).toString('base64'), isBase64Encoded: true };
      },
      413,
      'body_too_large',
    ),
    row('non-JSON body', () => ({ ...base(), body: 'encrypt=abc' }), 400, 'body_not_json'),
    row(
      'base64-encoded body that is not JSON',
      () => ({ ...base(), body: Buffer.from('encrypt=abc').toString('base64'), isBase64Encoded: true }),
      400,
      'body_not_json',
    ),
    row('empty body', () => ({ ...base(), body: '' }), 400, 'body_not_json'),
    row('missing encrypt', () => ({ ...base(), body: '{"data":"x"}' }), 400, 'missing_encrypt'),
    row('encrypt not a string', () => ({ ...base(), body: '{"encrypt":42}' }), 400, 'missing_encrypt'),
    row('JSON that is not an object', () => ({ ...base(), body: '"encrypt"' }), 400, 'missing_encrypt'),
  ])('%s', async (_name, make, status, reason) => {
    const s = setup();
    expectRejected(await s.handler(event(make())), s, status, reason);
  });

  it('honours CALLBACK_MAX_BODY_BYTES, counting the body exactly', async () => {
    const r = request(JSON.stringify({ EventType: 'user_add_org', CorpId: 'dingcorp', UserId: Array.from({ length: 20 }, (_, i) => `user${i}`) }));
    expect(Buffer.byteLength(r.body)).toBeGreaterThan(256); // the smallest limit the config allows
    const size = Buffer.byteLength(r.body);
    const atLimit = setup({ CALLBACK_MAX_BODY_BYTES: String(size) });
    expectSuccessReply(await atLimit.handler(event(r)));
    const below = setup({ CALLBACK_MAX_BODY_BYTES: String(size - 1) });
    expectRejected(await below.handler(event(r)), below, 413, 'body_too_large');
  });

  it('a stale request is not even looked at when the signature is wrong (signature first)', async () => {
    const s = setup();
    expectRejected(await s.handler(event(request(USER_EVENT, { token: 'sometoken', timestamp: '1' }))), s, 401, 'bad_signature');
  });

  it('an oversize body is refused before the signature is computed (size first)', async () => {
    const s = setup();
    const r = request(USER_EVENT, { token: 'sometoken' });
    expectRejected(await s.handler(event({ ...r, body: JSON.stringify({ encrypt: encryptOf(r) + 'A'.repeat(70_000) }) })), s, 413, 'body_too_large');
  });
});

/**
 * Tampering with the ciphertext, byte region by byte region. The frame of USER_EVENT is
 *   bytes 0-15 random prefix | 16-19 length | 20-124 message | 125-139 owner key | 140-159 padding
 * i.e. 10 AES blocks. CBC decrypts block i as D(C[i]) XOR C[i-1] (C[-1] = IV = key[0..16)), so
 * changing ciphertext block i garbles plaintext block i into pseudo-random bytes and flips exactly
 * the same bits of plaintext block i+1.
 */
describe('tampered ciphertext', () => {
  const base = () => request(USER_EVENT);
  const region = { randomPrefix: 5, lengthField: 16 + 2, message: 3 * 16 + 4, ownerKey: 8 * 16, padding: 159 };

  it('the layout above is the one under test', () => {
    expect(20 + Buffer.byteLength(USER_EVENT) + OWNER.length).toBe(140);
    expect(Buffer.from(encryptOf(base()), 'base64')).toHaveLength(160);
  });

  // The signature covers the `encrypt` string, so without the token any change stops there.
  it.each(Object.entries(region))('%s changed, not re-signed → 401', async (_name, byte) => {
    const s = setup();
    const r = base();
    expectRejected(await s.handler(event(withEncrypt(r, flipBit(encryptOf(r), byte)))), s, 401, 'bad_signature');
  });

  // From here on the attacker re-signs with the right token (a leaked token, or an insider): the
  // decryption checks are what is left.
  it.each([
    // Random prefix. It cannot be changed alone: its plaintext is D(C[0]) XOR IV and the IV is
    // the key's. Changing C[0] garbles the prefix, which nobody checks, and flips the same bit
    // of block 1 (frame bytes 16-31: the length field and the first 12 message bytes).
    // C[0] byte 0 → frame byte 16, the length's high byte: 2^24 more bytes than there are.
    tamper('block 0 byte 0 (length high byte flips)', (e) => flipBit(e, 0), 400, 'bad_length_field'),
    // C[0] byte 3 → the length's low byte: 105 becomes 104, so the message loses its final `}`
    // to the owner key, which then reads "}dingreceiverapp".
    tamper('block 0 byte 3 (length low byte flips)', (e) => flipBit(e, 3), 403, 'owner_key_mismatch'),
    // C[0] byte 15 → frame byte 31, message byte 11: `{"EventType"` becomes `{"EventType#`.
    tamper('block 0 byte 15 (a message byte flips)', (e) => flipBit(e, 15), 400, 'bad_event'),
    // Length field block garbled: the length is now a pseudo-random 32-bit number, larger than
    // the frame (one of at most 120 would have odds of about 3 in 100 million).
    tamper('block 1 garbled (length field)', (e) => flipBit(e, region.lengthField), 400, 'bad_length_field'),
    // A message block garbled: 16 pseudo-random bytes are almost never valid UTF-8 (these are
    // not), and if they were, the JSON would not parse (bad_event, also 400).
    tamper('block 3 garbled (message)', (e) => flipBit(e, region.message), 400, 'bad_utf8'),
    // The owner key's first byte flipped precisely (through C[6]) garbles message block 6
    // (bytes 96-111), which fails UTF-8 decoding before the owner key is compared. Had those bytes
    // happened to be valid UTF-8, the owner-key check would have answered 403.
    tamper('owner key byte 125 flipped through block 6', (e) => flipBit(e, 6 * 16 + 13), 400, 'bad_utf8'),
    // Block 8 holds the rest of the owner key and the first 4 padding bytes: garbling it breaks
    // the padding, which is checked first.
    tamper('block 8 garbled (owner key and padding)', (e) => flipBit(e, region.ownerKey), 400, 'bad_padding'),
    // C[8] byte 15 → the last plaintext byte, the padding count: 20 becomes 21, and the byte
    // before it still says 20.
    tamper('padding count flipped through block 8', (e) => flipBit(e, 8 * 16 + 15), 400, 'bad_padding'),
    // The last block garbled: a pseudo-random padding count and bytes.
    tamper('block 9 garbled (padding)', (e) => flipBit(e, region.padding), 400, 'bad_padding'),
    tamper('ciphertext not base64', () => '***not-base64***', 400, 'bad_base64'),
    tamper('ciphertext truncated to a non-block length', (e) => Buffer.from(e, 'base64').subarray(0, 157).toString('base64'), 400, 'bad_ciphertext_length'),
    tamper('ciphertext with its last block dropped', (e) => Buffer.from(e, 'base64').subarray(0, 144).toString('base64'), 400, 'bad_padding'),
  ])('%s', async (_name, change, status, reason) => {
    const s = setup();
    const r = base();
    expectRejected(await s.handler(event(resigned(r, change(encryptOf(r))))), s, status, reason);
  });

  it('a re-signed change of block 0 that keeps the JSON valid is accepted: CBC alone has no integrity', async () => {
    // The same bit flip as "block 0 byte 15", on an event whose byte 11 sits inside a value:
    // `{"CorpId":"dingcorp"` becomes `{"CorpId":"eingcorp"`. Decryption cannot notice; only the
    // signature protects the ciphertext, which is why DINGTALK_TOKEN is a secret like the AES key.
    // The harm is bounded by what a message is: it only makes the worker re-read DingTalk.
    const s = setup();
    const r = request(JSON.stringify({ CorpId: 'dingcorp', EventType: 'user_modify_org', UserId: ['zhangsan'] }));
    expectSuccessReply(await s.handler(event(resigned(r, flipBit(encryptOf(r), 15)))));
    expect(s.queue.receive(10).map((m) => decodeMessage(m.body))).toEqual([
      { kind: 'user', id: 'zhangsan', eventType: 'user_modify_org', eventTime: 0, corpId: 'eingcorp' },
    ]);
  });

  it('a new random prefix is accepted: it is a salt, not a check (a retry from DingTalk looks so)', async () => {
    const s = setup();
    expectSuccessReply(await s.handler(event(request(USER_EVENT, { random: Buffer.alloc(16, 0xa5) }))));
    expect(s.queue.depth).toBe(2);
  });

  it('the owner key flipped precisely through block 0, on a message short enough to share block 1 → 403', async () => {
    // Message `{}` puts the owner key at frame bytes 22-36; C[0] byte 6 flips frame byte 22, the
    // owner key's "d". Garbling the random prefix costs nothing, so only the owner key check can
    // catch it, and it does before the (invalid) event is parsed.
    const s = setup();
    const r = request('{}');
    expectRejected(await s.handler(event(resigned(r, flipBit(encryptOf(r), 6)))), s, 403, 'owner_key_mismatch', '{}');
  });
});

describe('malformed frames, encrypted with the right key and re-signed', () => {
  it.each([
    row('padding byte 0', () => framed(USER_EVENT, OWNER, { padByte: 0 }), 400, 'bad_padding'),
    row('padding byte 33', () => framed(USER_EVENT, OWNER, { padByte: 33 }), 400, 'bad_padding'),
    row(
      'unequal padding bytes',
      () => {
        const f = framed(USER_EVENT, OWNER);
        f[f.length - 2] = f[f.length - 1]! - 1;
        return f;
      },
      400,
      'bad_padding',
    ),
    row('length field beyond the frame', () => framed(USER_EVENT, OWNER, { length: 5000 }), 400, 'bad_length_field'),
    row('length field one short', () => framed(USER_EVENT, OWNER, { length: Buffer.byteLength(USER_EVENT) - 1 }), 403, 'owner_key_mismatch'),
    row('invalid JSON', () => framed('{"EventType":"user_add_org",', OWNER), 400, 'bad_event'),
    row('valid JSON but no ids', () => framed('{"EventType":"user_add_org","CorpId":"c"}', OWNER), 400, 'bad_event'),
    row('another app’s owner key', () => framed(USER_EVENT, 'dingotherapp'), 403, 'owner_key_mismatch'),
    row('no owner key', () => framed(USER_EVENT, ''), 403, 'owner_key_mismatch'),
  ])('%s', async (_name, make, status, reason) => {
    const s = setup();
    expectRejected(await s.handler(event(resigned(request(USER_EVENT), cbc(make())))), s, status, reason);
  });

  it('the owner-key log line says which owner key arrived and which was expected', async () => {
    const s = setup();
    await s.handler(event(request(USER_EVENT, { owner: 'dingotherapp' })));
    const entry = s.logger.entries.find((e) => e.message === 'callback rejected')!;
    expect(entry).toMatchObject({ status: 403, reason: 'owner_key_mismatch', sourceIp: '203.119.1.1' });
    expect(String(entry.detail)).toContain('"dingotherapp"');
    expect(String(entry.detail)).toContain(`"${OWNER}"`);
    expectNoSecretsLogged(s, USER_EVENT);
  });
});

describe('the queue', () => {
  it('answers 503, never success, when the queue does not accept every message', async () => {
    const s = setup();
    s.queue.rejectNextEnqueues = 1;
    const res = await s.handler(event(request(USER_EVENT)));
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body!)).toEqual({ error: expect.any(String) });
    expect(res.body).not.toMatch(/success|encrypt/);
    expect(s.queue.depth).toBe(0);
    expect(s.logger.entries).toEqual([
      expect.objectContaining({ level: 'error', eventType: 'user_add_org', messages: 2, error: expect.stringContaining('accepted 0 of 2') }),
    ]);
    expectNoSecretsLogged(s, USER_EVENT);
  });

  it('answers 503 for any error the queue throws, and success once the queue accepts again', async () => {
    const logger = createMemoryLogger();
    let fail = true;
    const config = loadCallbackConfig({ DINGTALK_TOKEN: TOKEN, DINGTALK_AES_KEY: AES_KEY, DINGTALK_OWNER_KEY: OWNER });
    const handler = createCallbackHandler({
      config,
      logger,
      clock: { now: () => NOW },
      queue: {
        enqueue: async () => {
          if (fail) throw new Error('socket hang up');
        },
      },
    });
    expect((await handler(event(request(USER_EVENT)))).statusCode).toBe(503);
    fail = false;
    expectSuccessReply(await handler(event(request(USER_EVENT))));
  });

  it('a URL check does not touch the queue, so it succeeds even when the queue refuses', async () => {
    const s = setup();
    s.queue.rejectNextEnqueues = 1;
    expectSuccessReply(await s.handler(event(request('{"EventType":"check_url"}'))));
  });
});
