/**
 * The DingTalk callback receiver: an API Gateway HTTP API (payload 2.0) request in, a response
 * out. Checks run cheapest and most distrustful first (invariant 2): parameters, body size,
 * signature (constant time), freshness, then decryption with strict padding/length checks and the
 * owner key, then parsing. Only when the queue has accepted every change message does it answer
 * DingTalk's encrypted `success` (invariant 1).
 *
 * The body size is checked before the signature, although the issue lists it after: hashing an
 * unbounded body would be the cheapest way to make this function do work for an attacker.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { CallbackConfig } from '../config';
import type { Logger } from '../log';
import { systemClock, type ChangeQueue, type Clock } from '../ports';
import { buildReply, CallbackCryptoError, decodeAesKey, decryptMessage, randomNonce, verifySignature, type CryptoFailure } from './crypto';
import { EventParseError, parseEvent } from './events';

export interface CallbackDeps {
  config: CallbackConfig;
  queue: ChangeQueue;
  clock?: Clock;
  logger?: Logger;
}

export type CallbackHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Generic bodies: the caller learns the class of failure, the log says exactly what failed. */
const ERROR_BODY: Record<number, string> = {
  400: 'bad request',
  401: 'unauthorized',
  403: 'forbidden',
  413: 'payload too large',
  500: 'internal error',
  503: 'unavailable, retry later',
};

const STATUS_FOR_CRYPTO: Record<CryptoFailure, number> = {
  bad_aes_key: 500,
  bad_signature: 401,
  bad_base64: 400,
  bad_ciphertext_length: 400,
  bad_padding: 400,
  bad_length_field: 400,
  bad_utf8: 400,
  owner_key_mismatch: 403,
};

class Rejection extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

function respond(status: number, body: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode: status, headers: { 'content-type': 'application/json' }, body };
}

export function createCallbackHandler(deps: CallbackDeps): CallbackHandler {
  const { config, queue, logger } = deps;
  const clock = deps.clock ?? systemClock;
  // Decoded once: a bad key is a configuration error at start, not a 500 on every request.
  const key = decodeAesKey(config.aesKey);

  return async (event) => {
    const requestId = event.requestContext?.requestId;
    const sourceIp = event.requestContext?.http?.sourceIp;
    try {
      const q = event.queryStringParameters ?? {};
      const signature = q.msg_signature ?? q.signature;
      const timestamp = q.timestamp ?? q.timeStamp;
      const nonce = q.nonce;
      if (!signature || !timestamp || !nonce) {
        throw new Rejection(400, 'missing_parameters', 'query lacks msg_signature/signature, timestamp or nonce');
      }

      const raw = event.body ?? '';
      const bodyBytes = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw, 'utf8');
      if (bodyBytes > config.maxBodyBytes) {
        throw new Rejection(413, 'body_too_large', `body of about ${bodyBytes} bytes exceeds ${config.maxBodyBytes}`);
      }
      const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      let encrypt: unknown;
      try {
        encrypt = (JSON.parse(body) as { encrypt?: unknown } | null)?.encrypt;
      } catch {
        throw new Rejection(400, 'body_not_json', 'body is not JSON');
      }
      if (typeof encrypt !== 'string' || encrypt === '') throw new Rejection(400, 'missing_encrypt', 'body has no "encrypt" string');

      if (!verifySignature(config.token, timestamp, nonce, encrypt, signature)) {
        throw new Rejection(401, 'bad_signature', 'signature does not match token, timestamp, nonce and encrypt');
      }

      if (config.maxSkewSeconds > 0) {
        if (!/^\d{1,16}$/.test(timestamp)) throw new Rejection(400, 'bad_timestamp', 'timestamp is not a number');
        const ts = Number(timestamp);
        const ms = ts < 1e12 ? ts * 1000 : ts; // milliseconds in pushes; seconds in some docs
        const skew = Math.abs(clock.now() - ms) / 1000;
        if (skew > config.maxSkewSeconds) {
          throw new Rejection(401, 'stale_timestamp', `timestamp is ${Math.round(skew)} s away from now (limit ${config.maxSkewSeconds} s)`);
        }
      }

      let plaintext: string;
      try {
        plaintext = decryptMessage(encrypt, key, config.ownerKey);
      } catch (e) {
        if (e instanceof CallbackCryptoError) throw new Rejection(STATUS_FOR_CRYPTO[e.code], e.code, e.message);
        throw e;
      }

      let parsed;
      try {
        parsed = parseEvent(plaintext);
      } catch (e) {
        if (e instanceof EventParseError) throw new Rejection(400, 'bad_event', e.message);
        throw e;
      }

      if (parsed.action === 'enqueue') {
        try {
          await queue.enqueue(parsed.messages);
        } catch (e) {
          // No success: DingTalk retries (+10 s, +30 s) and then lists the push as failed,
          // where the reconcile's failed-push sweep picks it up.
          logger?.error('callback not acknowledged: queue did not accept every message', {
            requestId,
            eventType: parsed.eventType,
            corpId: parsed.corpId,
            messages: parsed.messages.length,
            error: e instanceof Error ? e.message : String(e),
          });
          return respond(503, JSON.stringify({ error: ERROR_BODY[503] }));
        }
        logger?.info('callback accepted', { requestId, eventType: parsed.eventType, corpId: parsed.corpId, messages: parsed.messages.length });
      } else {
        logger?.info('callback acknowledged without enqueueing', { requestId, eventType: parsed.eventType, corpId: parsed.corpId, reason: parsed.reason });
      }

      const reply = buildReply('success', {
        token: config.token,
        key,
        ownerKey: config.ownerKey,
        timeStamp: String(clock.now()),
        nonce: randomNonce(16),
      });
      return respond(200, JSON.stringify(reply));
    } catch (e) {
      if (e instanceof Rejection) {
        logger?.warn('callback rejected', { requestId, sourceIp, status: e.status, reason: e.reason, detail: e.detail });
        return respond(e.status, JSON.stringify({ error: ERROR_BODY[e.status] ?? 'error' }));
      }
      logger?.error('callback failed unexpectedly', { requestId, error: e instanceof Error ? e.name : 'unknown' });
      return respond(500, JSON.stringify({ error: ERROR_BODY[500] }));
    }
  };
}
