/**
 * DingTalk callback crypto (AES-256-CBC with the EncodingAESKey, 32-byte PKCS#7 blocks, a SHA-1 signature over the sorted token, timestamp, nonce and ciphertext), pure: no I/O, no configuration lookup.
 *
 * - signature = sha1_hex(sorted([token, timestamp, nonce, encrypt]).join(''))
 * - AES-256-CBC, key = base64(EncodingAESKey + '='), IV = key[0..16), PKCS#7 to 32-byte blocks
 * - plaintext frame = random(16) | uint32be(byte length of msg) | msg (UTF-8) | ownerKey (UTF-8)
 *
 * Decoding is strict and every failure is a distinct `CallbackCryptoError` code, so the receiver
 * can answer with the right status and log exactly what failed.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type CryptoFailure =
  | 'bad_aes_key'
  | 'bad_signature'
  | 'bad_base64'
  | 'bad_ciphertext_length'
  | 'bad_padding'
  | 'bad_length_field'
  | 'bad_utf8'
  | 'owner_key_mismatch';

export class CallbackCryptoError extends Error {
  override readonly name = 'CallbackCryptoError';
  constructor(
    readonly code: CryptoFailure,
    message: string,
  ) {
    super(message);
  }
}

const PAD_BLOCK = 32;
const RANDOM_BYTES = 16;
const LENGTH_BYTES = 4;
const HEADER = RANDOM_BYTES + LENGTH_BYTES;

/**
 * Turns the 43-character EncodingAESKey into the 32-byte AES key. The last character may carry
 * non-zero trailing bits (DingTalk's own FAQ key does), which base64 decoding simply drops.
 */
export function decodeAesKey(encodingAesKey: string): Buffer {
  if (!/^[A-Za-z0-9]{43}$/.test(encodingAesKey)) {
    throw new CallbackCryptoError('bad_aes_key', 'EncodingAESKey must be 43 letters or digits');
  }
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) throw new CallbackCryptoError('bad_aes_key', 'EncodingAESKey does not decode to 32 bytes');
  return key;
}

/** Lowercase hex SHA-1 over the four inputs sorted by code unit and joined. */
export function sign(token: string, timestamp: string, nonce: string, encrypt: string): string {
  const parts = [token, timestamp, nonce, encrypt].sort();
  return createHash('sha1').update(parts.join(''), 'utf8').digest('hex');
}

/** Constant-time comparison of the expected and received signature. */
export function verifySignature(token: string, timestamp: string, nonce: string, encrypt: string, received: string): boolean {
  const expected = Buffer.from(sign(token, timestamp, nonce, encrypt), 'utf8');
  const got = Buffer.from(received.toLowerCase(), 'utf8');
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time constant.
  if (got.length !== expected.length) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(expected, got);
}

/** Encrypts `msg` framed with `ownerKey`. `random` is for reproducible tests only. */
export function encryptMessage(msg: string, key: Buffer, ownerKey: string, random: Buffer = randomBytes(RANDOM_BYTES)): string {
  if (random.length !== RANDOM_BYTES) throw new RangeError('random prefix must be 16 bytes');
  const body = Buffer.from(msg, 'utf8');
  const trailer = Buffer.from(ownerKey, 'utf8');
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt32BE(body.length, 0);
  const frame = Buffer.concat([random, length, body, trailer]);
  const padCount = PAD_BLOCK - (frame.length % PAD_BLOCK);
  const padded = Buffer.concat([frame, Buffer.alloc(padCount, padCount)]);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The parts of a decrypted frame. `msg` is what DingTalk sent; `ownerKey` is its trailer. */
export interface DecryptedFrame {
  msg: string;
  ownerKey: string;
}

/**
 * Decrypts and unframes without judging the trailer; `decryptMessage` adds the owner-key check.
 * Throws CallbackCryptoError for any malformed input.
 */
export function decryptFrame(encrypted: string, key: Buffer): DecryptedFrame {
  if (encrypted.length === 0 || !STRICT_BASE64.test(encrypted)) {
    throw new CallbackCryptoError('bad_base64', 'ciphertext is not valid base64');
  }
  const data = Buffer.from(encrypted, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) {
    throw new CallbackCryptoError('bad_ciphertext_length', `ciphertext is ${data.length} bytes, not a multiple of 16`);
  }
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data), decipher.final()]);

  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > PAD_BLOCK || pad > plain.length) {
    throw new CallbackCryptoError('bad_padding', `padding byte ${pad} is outside 1..${PAD_BLOCK}`);
  }
  for (let i = plain.length - pad; i < plain.length; i++) {
    if (plain[i] !== pad) throw new CallbackCryptoError('bad_padding', 'padding bytes are not all equal');
  }
  const frame = plain.subarray(0, plain.length - pad);
  if (frame.length < HEADER) {
    throw new CallbackCryptoError('bad_length_field', 'frame is shorter than its 20-byte header');
  }
  const msgLength = frame.readUInt32BE(RANDOM_BYTES);
  if (msgLength > frame.length - HEADER) {
    throw new CallbackCryptoError('bad_length_field', `length field ${msgLength} exceeds the ${frame.length - HEADER} bytes in the frame`);
  }
  try {
    return {
      msg: utf8.decode(frame.subarray(HEADER, HEADER + msgLength)),
      ownerKey: utf8.decode(frame.subarray(HEADER + msgLength)),
    };
  } catch {
    throw new CallbackCryptoError('bad_utf8', 'decrypted frame is not valid UTF-8');
  }
}

/** Decrypts and checks that the trailer is the configured owner key (AppKey, CorpId or suiteKey). */
export function decryptMessage(encrypted: string, key: Buffer, expectedOwnerKey: string): string {
  const frame = decryptFrame(encrypted, key);
  if (frame.ownerKey !== expectedOwnerKey) {
    throw new CallbackCryptoError(
      'owner_key_mismatch',
      `owner key in the message is "${printable(frame.ownerKey)}", expected "${printable(expectedOwnerKey)}" (check DINGTALK_OWNER_KEY: AppKey, CorpId or suiteKey)`,
    );
  }
  return frame.msg;
}

/** Owner keys are public identifiers, not secrets, but an attacker controls this one: keep it short and printable. */
function printable(s: string): string {
  const cleaned = s.replace(/[^\x20-\x7e]/g, '?');
  return cleaned.length > 64 ? `${cleaned.slice(0, 64)}…` : cleaned;
}

export interface CallbackReply {
  msg_signature: string;
  timeStamp: string;
  nonce: string;
  encrypt: string;
}

export interface ReplyOptions {
  token: string;
  key: Buffer;
  ownerKey: string;
  timeStamp: string;
  nonce: string;
  random?: Buffer;
}

/** The JSON body DingTalk expects back; note the camel-case `timeStamp`. */
export function buildReply(plaintext: string, opts: ReplyOptions): CallbackReply {
  const encrypt = encryptMessage(plaintext, opts.key, opts.ownerKey, opts.random);
  return {
    msg_signature: sign(opts.token, opts.timeStamp, opts.nonce, encrypt),
    timeStamp: opts.timeStamp,
    nonce: opts.nonce,
    encrypt,
  };
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random alphanumeric nonce (DingTalk uses 16 characters in replies, about 8 in pushes). */
export function randomNonce(length = 16): string {
  const bytes = randomBytes(length);
  let out = '';
  // 62 does not divide 256; the slight bias is irrelevant for a nonce that is only a salt.
  for (const b of bytes) out += NONCE_ALPHABET[b % NONCE_ALPHABET.length];
  return out;
}
