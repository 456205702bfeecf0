import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildReply,
  CallbackCryptoError,
  type CryptoFailure,
  decodeAesKey,
  decryptFrame,
  decryptMessage,
  encryptMessage,
  randomNonce,
  sign,
  verifySignature,
} from '../../lib/dingtalk/crypto';
import vectors from '../fixtures/dingtalk-callback.json';

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const key = decodeAesKey(AES_KEY);

/** Encrypts raw bytes with the callback cipher and no padding of its own: for hand-made frames. */
function encryptRaw(plain: Buffer): string {
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

/** Decrypts without looking at the frame: to inspect what encryptMessage produced. */
function decryptRaw(encrypted: string): Buffer {
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([d.update(Buffer.from(encrypted, 'base64')), d.final()]);
}

function frame(msg: Buffer, owner: string, opts: { length?: number } = {}): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(opts.length ?? msg.length);
  return Buffer.concat([Buffer.alloc(16, 7), len, msg, Buffer.from(owner)]);
}

function pad(b: Buffer, count?: number, byte?: number): Buffer {
  const n = count ?? 32 - (b.length % 32);
  return Buffer.concat([b, Buffer.alloc(n, byte ?? n)]);
}

function failure(fn: () => unknown): CryptoFailure {
  try {
    fn();
  } catch (e) {
    if (e instanceof CallbackCryptoError) return e.code;
    throw e;
  }
  throw new Error('expected a CallbackCryptoError');
}

describe('published vectors', () => {
  it.each(vectors.requests.map((v) => [v.name, v] as const))('request: %s verifies and decrypts', (_name, v) => {
    expect(verifySignature(v.token, v.timestamp, v.nonce, v.encrypt, v.msg_signature)).toBe(true);
    expect(sign(v.token, v.timestamp, v.nonce, v.encrypt)).toBe(v.msg_signature);
    expect(decryptMessage(v.encrypt, decodeAesKey(v.aesKey), v.ownerKey)).toBe(v.plaintext);
  });

  it.each(vectors.replies.map((v) => [v.name, v] as const))('reply: %s signs and decrypts to success', (_name, v) => {
    expect(sign(v.token, v.timeStamp, v.nonce, v.encrypt)).toBe(v.msg_signature);
    expect(decryptMessage(v.encrypt, decodeAesKey(v.aesKey), v.ownerKey)).toBe(v.plaintext);
  });

  it('a reply built with a vector’s inputs and random prefix decrypts and verifies like the vector', () => {
    const v = vectors.replies[0]!;
    const k = decodeAesKey(v.aesKey);
    const random = decryptFrameRandom(v.encrypt, k);
    const reply = buildReply('success', { token: v.token, key: k, ownerKey: v.ownerKey, timeStamp: v.timeStamp, nonce: v.nonce, random });
    expect(reply.encrypt).toBe(v.encrypt);
    expect(reply.msg_signature).toBe(v.msg_signature);
  });
});

function decryptFrameRandom(encrypted: string, k: Buffer): Buffer {
  const d = createDecipheriv('aes-256-cbc', k, k.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([d.update(Buffer.from(encrypted, 'base64')), d.final()]).subarray(0, 16);
}

describe('key', () => {
  it('tolerates trailing bits in the last character (the official FAQ key)', () => {
    // 43 characters carry 258 bits for a 256-bit key: the last character's low 2 bits are spare.
    // '3' is 110111 in base64, with spare bits 11; '0' is 110100, the same key with them cleared.
    const faq = decodeAesKey('1234567890123456789012345678901234567890123');
    expect(faq).toHaveLength(32);
    expect(faq.equals(decodeAesKey('1234567890123456789012345678901234567890120'))).toBe(true);
    expect(decryptMessage(encryptMessage('{"EventType":"check_url"}', faq, 'dingowner'), faq, 'dingowner')).toBe('{"EventType":"check_url"}');
  });
  it.each(['short', `${AES_KEY}x`, `${AES_KEY.slice(0, 42)}=`, `${AES_KEY.slice(0, 42)}+`])('rejects %s', (bad) => {
    expect(failure(() => decodeAesKey(bad))).toBe('bad_aes_key');
  });
});

describe('round trips', () => {
  it('counts UTF-8 bytes, not characters, in the length field', () => {
    const msg = '{"EventType":"user_add_org","name":"张三丰 👩‍💻"}';
    const enc = encryptMessage(msg, key, 'dingowner');
    expect(decryptMessage(enc, key, 'dingowner')).toBe(msg);
    const plain = decryptRaw(enc);
    expect(plain.readUInt32BE(16)).toBe(Buffer.byteLength(msg));
    expect(plain.readUInt32BE(16)).toBeGreaterThan(msg.length);
    expect(plain.length % 32).toBe(0);
  });

  it('round-trips a long message (100 KB of Chinese text), its length field counting bytes', () => {
    const msg = '钉钉企业微信通讯录同步'.repeat(3400);
    expect(Buffer.byteLength(msg)).toBeGreaterThan(100_000);
    const enc = encryptMessage(msg, key, '钉钉owner');
    expect(decryptMessage(enc, key, '钉钉owner')).toBe(msg);
    const plain = decryptRaw(enc);
    expect(plain.readUInt32BE(16)).toBe(Buffer.byteLength(msg)); // 3 bytes per character
    expect(plain.readUInt32BE(16)).toBe(msg.length * 3);
  });

  it('pads a frame that is already a multiple of 32 bytes with a whole block of 32', () => {
    const msg = 'x'.repeat(32 - 20 - 'own'.length + 32); // frame = 64 bytes
    const enc = encryptMessage(msg, key, 'own');
    expect(Buffer.from(enc, 'base64')).toHaveLength(96);
    expect(decryptMessage(enc, key, 'own')).toBe(msg);
  });

  it('nonces are alphanumeric of the asked length', () => {
    expect(randomNonce()).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(randomNonce(8)).toMatch(/^[A-Za-z0-9]{8}$/);
  });
});

describe('signature', () => {
  it('accepts the expected value in either case and rejects any other value', () => {
    const s = sign('tok', '1', 'n', 'e');
    expect(verifySignature('tok', '1', 'n', 'e', s)).toBe(true);
    expect(verifySignature('tok', '1', 'n', 'e', s.toUpperCase())).toBe(true);
    expect(verifySignature('tok', '1', 'n', 'e', s.slice(0, -1) + (s.endsWith('0') ? '1' : '0'))).toBe(false);
    expect(verifySignature('tok', '1', 'n', 'e', s.slice(0, 10))).toBe(false);
    expect(verifySignature('tok', '1', 'n', 'e', '')).toBe(false);
    expect(verifySignature('other', '1', 'n', 'e', s)).toBe(false);
  });
});

describe('strict decoding: each failure has its own code', () => {
  const good = frame(Buffer.from('{"EventType":"check_url"}'), 'dingowner');

  it.each<[string, () => string, CryptoFailure]>([
    ['empty', () => '', 'bad_base64'],
    ['not base64', () => `!!!!${encryptRaw(pad(good))}`, 'bad_base64'],
    ['base64 without its padding', () => `${encryptRaw(pad(good)).replace(/=+$/, '')}A`, 'bad_base64'],
    ['whitespace inside', () => encryptRaw(pad(good)).replace(/^(.{8})/, '$1 '), 'bad_base64'],
    [
      'length not a multiple of 16',
      () => Buffer.concat([Buffer.from(encryptRaw(pad(good)), 'base64'), Buffer.alloc(5)]).toString('base64'),
      'bad_ciphertext_length',
    ],
    ['padding byte 0', () => encryptRaw(pad(good, 32 - (good.length % 32), 0)), 'bad_padding'],
    ['padding byte 33', () => encryptRaw(Buffer.concat([good, Buffer.alloc(32 - (good.length % 32) + 32, 33)])), 'bad_padding'],
    [
      'unequal padding bytes',
      () => {
        const p = pad(good);
        p[p.length - 2] = p[p.length - 1]! - 1;
        return encryptRaw(p);
      },
      'bad_padding',
    ],
    ['length field beyond the frame', () => encryptRaw(pad(frame(Buffer.from('{}'), 'dingowner', { length: 500 }))), 'bad_length_field'],
    ['frame shorter than its header', () => encryptRaw(pad(Buffer.alloc(10, 1))), 'bad_length_field'],
    ['invalid UTF-8 in the message', () => encryptRaw(pad(frame(Buffer.from([0xff, 0xfe, 0x41]), 'dingowner'))), 'bad_utf8'],
    ['a UTF-8 character cut by the length field', () => encryptRaw(pad(frame(Buffer.from('张'), 'dingowner', { length: 2 }))), 'bad_utf8'],
    ['invalid UTF-8 in the owner key', () => encryptRaw(pad(Buffer.concat([frame(Buffer.from('{}'), ''), Buffer.from([0xc3, 0x28])]))), 'bad_utf8'],
    ['padding longer than the data', () => encryptRaw(Buffer.alloc(16, 32)), 'bad_padding'],
    ['wrong owner key', () => encryptRaw(pad(frame(Buffer.from('{}'), 'dingsomeoneelse'))), 'owner_key_mismatch'],
  ])('%s', (_name, make, code) => {
    expect(failure(() => decryptMessage(make(), key, 'dingowner'))).toBe(code);
  });

  it('says which owner key arrived and which was expected', () => {
    const enc = encryptMessage('{}', key, 'dingarrived');
    expect(() => decryptMessage(enc, key, 'dingexpected')).toThrow(/"dingarrived".*"dingexpected"/);
  });

  it('decryptFrame returns the trailer without judging it', () => {
    expect(decryptFrame(encryptMessage('m', key, 'trailer'), key)).toEqual({ msg: 'm', ownerKey: 'trailer' });
  });
});
