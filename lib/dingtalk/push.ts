/**
 * Pushing an event the way DingTalk does, and judging the reply the way DingTalk does: only a
 * 200 whose JSON is signed with the token and decrypts (with the owner key) to `success` counts
 * as delivered. Used by `npm run simulate` and by the sandbox DingTalk simulator.
 */
import { CallbackCryptoError, decodeAesKey, decryptMessage, encryptMessage, randomNonce, sign, verifySignature } from './crypto';

export interface PushCredentials {
  token: string;
  aesKey: string;
  ownerKey: string;
}

export interface PushResult {
  delivered: boolean;
  /** HTTP status, or 0 when no answer came. */
  status: number;
  /** Why it does not count as delivered. */
  reason?: string;
  elapsedMs: number;
  /**
   * When the request left and the answer came (this machine's epoch ms), and the reply's own
   * `timeStamp` when it had one: the receiver's clock, for measuring the skew between the two.
   */
  times?: { sentAt: number; answeredAt: number; replyTimeStamp?: number };
}

/** The query string and body DingTalk sends for `plaintext`. */
export function signedRequest(plaintext: string, creds: PushCredentials, timestamp = String(Date.now()), nonce = randomNonce(8)) {
  const encrypt = encryptMessage(plaintext, decodeAesKey(creds.aesKey), creds.ownerKey);
  const signature = sign(creds.token, timestamp, nonce, encrypt);
  const query = new URLSearchParams({ msg_signature: signature, signature, timestamp, nonce });
  return { query, body: JSON.stringify({ encrypt }) };
}

/** Checks a reply body as DingTalk does; returns the reason it fails, or undefined when it is a valid `success`. */
export function judgeReply(status: number, text: string, creds: PushCredentials): string | undefined {
  if (status !== 200) return `HTTP ${status}: ${text.slice(0, 200)}`;
  let reply: Record<string, unknown>;
  try {
    reply = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return `reply is not JSON: ${text.slice(0, 200)}`;
  }
  const { msg_signature, timeStamp, nonce, encrypt } = reply;
  if (typeof msg_signature !== 'string' || typeof timeStamp !== 'string' || typeof nonce !== 'string' || typeof encrypt !== 'string') {
    return 'reply lacks msg_signature, timeStamp, nonce or encrypt';
  }
  if (!verifySignature(creds.token, timeStamp, nonce, encrypt, msg_signature)) return 'reply signature does not verify with DINGTALK_TOKEN';
  let plain: string;
  try {
    plain = decryptMessage(encrypt, decodeAesKey(creds.aesKey), creds.ownerKey);
  } catch (e) {
    return e instanceof CallbackCryptoError ? `reply does not decrypt: ${e.code}` : 'reply does not decrypt';
  }
  return plain === 'success' ? undefined : `reply decrypts to "${plain.slice(0, 40)}", not "success"`;
}

export async function postSignedEvent(
  url: string,
  event: Record<string, unknown>,
  creds: PushCredentials,
  opts: { timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<PushResult> {
  const started = performance.now();
  const { query, body } = signedRequest(JSON.stringify(event), creds);
  const target = new URL(url);
  for (const [k, v] of query) target.searchParams.set(k, v);
  const elapsed = () => Math.round(performance.now() - started);
  let res: Response;
  let text: string;
  const sentAt = Date.now();
  try {
    res = await (opts.fetch ?? fetch)(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    });
    text = await res.text();
  } catch (e) {
    return { delivered: false, status: 0, reason: `no answer: ${(e as Error).message}`, elapsedMs: elapsed() };
  }
  const times = { sentAt, answeredAt: Date.now(), replyTimeStamp: replyTimeStamp(text) };
  const reason = judgeReply(res.status, text, creds);
  return reason === undefined
    ? { delivered: true, status: res.status, elapsedMs: elapsed(), times }
    : { delivered: false, status: res.status, reason, elapsedMs: elapsed(), times };
}

/** The reply's `timeStamp` in epoch ms, when it is one. */
function replyTimeStamp(text: string): number | undefined {
  try {
    const v = (JSON.parse(text) as { timeStamp?: unknown }).timeStamp;
    return typeof v === 'string' && /^\d{10,16}$/.test(v) ? Number(v) : undefined;
  } catch {
    return undefined;
  }
}
