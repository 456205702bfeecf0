/**
 * The DingTalk callback receiver: an API Gateway HTTP API (payload 2.0) request in, a response
 * out. Checks run cheapest and most distrustful first (a rejected request enqueues nothing and gets a generic 4xx):
 *
 *   query parameters → body size → body JSON → signature (constant time) → freshness
 *   → decryption (strict padding and length) and owner key → event parsing → enqueue
 *
 * The body size is checked before the signature, although the design lists it after: the
 * signature hashes the whole `encrypt` string, and hashing an unbounded body is the cheapest way
 * to make this function work for an attacker. Measuring the size costs nothing by comparison.
 *
 * Only when the queue has accepted every change message does it answer DingTalk's encrypted
 * `success` (acknowledge only what is durable); otherwise 503, and DingTalk retries and later lists the push as failed.
 * Error bodies are generic; the log line says exactly what failed, without the token, the AES key
 * or the plaintext of a rejected request.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { CallbackConfig } from '../config';
import type { Logger } from '../log';
import { METRIC, type MetricsRecorder } from '../metrics/metrics';
import { type ChangeQueue, type Clock, systemClock } from '../ports';
import { entityRef, eventCorrelationId, eventTimeText } from '../trail/trail';
import { buildReply, CallbackCryptoError, type CryptoFailure, decodeAesKey, decryptMessage, randomNonce, verifySignature } from './crypto';
import { EventParseError, type ParsedEvent, parseEvent } from './events';

export interface CallbackDeps {
  config: CallbackConfig;
  queue: ChangeQueue;
  clock?: Clock;
  logger?: Logger;
  /** Accepted, rejected by reason, server errors and messages enqueued (flushed by the caller). */
  metrics?: MetricsRecorder;
}

export type CallbackHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** What the log's `reason` field can say about a rejected request. */
type RejectionReason =
  | 'missing_parameters'
  | 'unsupported_content_type'
  | 'body_too_large'
  | 'body_not_json'
  | 'missing_encrypt'
  | 'bad_timestamp'
  | 'stale_timestamp'
  | 'bad_event'
  | Exclude<CryptoFailure, 'bad_aes_key'>;

const ERROR_BODY: Readonly<Record<number, string>> = {
  400: 'bad request',
  401: 'unauthorized',
  403: 'forbidden',
  413: 'payload too large',
  415: 'unsupported media type',
  500: 'internal error',
  503: 'unavailable, retry later',
};

const STATUS_FOR_CRYPTO: Readonly<Record<CryptoFailure, number>> = {
  bad_aes_key: 500, // unreachable per request: the key is decoded when the handler is created
  bad_signature: 401,
  bad_base64: 400,
  bad_ciphertext_length: 400,
  bad_padding: 400,
  bad_length_field: 400,
  bad_utf8: 400,
  // The request decrypted, so it came from someone holding our key, but for another app (or the
  // configured owner key is wrong): refused, not malformed.
  owner_key_mismatch: 403,
};

class Rejection {
  constructor(
    readonly status: number,
    readonly reason: RejectionReason,
    readonly detail: string,
  ) {}
}

function respond(status: number, body: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode: status, headers: { 'content-type': 'application/json' }, body };
}

function errorResponse(status: number): APIGatewayProxyStructuredResultV2 {
  return respond(status, JSON.stringify({ error: ERROR_BODY[status] ?? 'error' }));
}

/** Decoded size of the body without decoding it: base64 carries 3 bytes per 4 characters. */
function bodySize(raw: string, isBase64: boolean): number {
  return isBase64 ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw, 'utf8');
}

export function createCallbackHandler(deps: CallbackDeps): CallbackHandler {
  const { config, queue, logger, metrics } = deps;
  const clock = deps.clock ?? systemClock;
  // Once per handler: a bad key fails at start, and requests do not pay for decoding it.
  const key = decodeAesKey(config.aesKey);

  /** Everything up to a parsed event; throws Rejection for anything not acceptable. */
  function verify(event: APIGatewayProxyEventV2): ParsedEvent {
    const q = event.queryStringParameters ?? {};
    // `||`, not `??`: an empty msg_signature should fall back like a missing one.
    const signature = q.msg_signature || q.signature;
    const timestamp = q.timestamp || q.timeStamp;
    const nonce = q.nonce;
    if (!signature || !timestamp || !nonce) {
      const missing = [!signature && 'msg_signature/signature', !timestamp && 'timestamp', !nonce && 'nonce'].filter(Boolean).join(', ');
      throw new Rejection(400, 'missing_parameters', `query lacks ${missing}`);
    }
    // DingTalk posts JSON. A body declared as anything else is no push; a missing content type is
    // let through (a proxy may drop the header), since the signature decides anyway.
    const contentType = event.headers?.['content-type'];
    if (contentType !== undefined && !/json/i.test(contentType)) {
      throw new Rejection(415, 'unsupported_content_type', 'content type is not JSON');
    }

    const raw = event.body ?? '';
    const size = bodySize(raw, event.isBase64Encoded === true);
    if (size > config.maxBodyBytes) {
      throw new Rejection(413, 'body_too_large', `body of about ${size} bytes exceeds the ${config.maxBodyBytes}-byte limit`);
    }
    const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    let envelope: unknown;
    try {
      envelope = JSON.parse(body);
    } catch {
      throw new Rejection(400, 'body_not_json', 'body is not JSON');
    }
    const encrypt = envelope !== null && typeof envelope === 'object' ? (envelope as { encrypt?: unknown }).encrypt : undefined;
    if (typeof encrypt !== 'string' || encrypt === '') throw new Rejection(400, 'missing_encrypt', 'body has no "encrypt" string');

    if (!verifySignature(config.token, timestamp, nonce, encrypt, signature)) {
      throw new Rejection(401, 'bad_signature', 'signature does not match token, timestamp, nonce and encrypt (check DINGTALK_TOKEN)');
    }

    // After the signature: the timestamp is only worth judging once we know DingTalk sent it.
    if (config.maxSkewSeconds > 0) {
      if (!/^\d{1,15}$/.test(timestamp)) throw new Rejection(400, 'bad_timestamp', 'timestamp is not epoch milliseconds');
      const skewSeconds = Math.abs(clock.now() - Number(timestamp)) / 1000;
      if (skewSeconds > config.maxSkewSeconds) {
        throw new Rejection(
          401,
          'stale_timestamp',
          `timestamp is ${Math.round(skewSeconds)} s from now, beyond CALLBACK_MAX_SKEW_SECONDS=${config.maxSkewSeconds}`,
        );
      }
    }

    let plaintext: string;
    try {
      plaintext = decryptMessage(encrypt, key, config.ownerKey);
    } catch (e) {
      // The messages name lengths, padding bytes and owner keys (public identifiers), never key material.
      if (e instanceof CallbackCryptoError && e.code !== 'bad_aes_key') throw new Rejection(STATUS_FOR_CRYPTO[e.code], e.code, e.message);
      throw e;
    }

    try {
      return parseEvent(plaintext);
    } catch (e) {
      // EventParseError messages describe the shape, never the content.
      if (e instanceof EventParseError) throw new Rejection(400, 'bad_event', e.message);
      throw e;
    }
  }

  return async (event) => {
    const requestId = event.requestContext?.requestId;
    let parsed: ParsedEvent;
    try {
      parsed = verify(event);
    } catch (e) {
      if (e instanceof Rejection) {
        const sourceIp = event.requestContext?.http?.sourceIp;
        logger?.warn('callback rejected', { requestId, sourceIp, status: e.status, reason: e.reason, detail: e.detail });
        metrics?.add(METRIC.callbackRejected, 'Count', 1, { Reason: e.reason });
        if (e.status >= 500) metrics?.add(METRIC.callbackServerErrors, 'Count', 1);
        return errorResponse(e.status);
      }
      // Nothing on this path puts secrets or plaintext into an error message.
      logger?.error('callback failed unexpectedly', { requestId, error: e instanceof Error ? `${e.name}: ${e.message}` : 'unknown' });
      metrics?.add(METRIC.callbackServerErrors, 'Count', 1);
      return errorResponse(500);
    }

    const summary: Record<string, unknown> = { requestId, eventType: parsed.eventType, corpId: parsed.corpId };
    if (parsed.action === 'enqueue') {
      const first = parsed.messages[0];
      const entities = parsed.messages.map((m) => entityRef(m.kind, m.id));
      const eventTime = first?.eventTime ?? 0;
      // One trail per push: its retries, and its failed-push record if DingTalk gives up, share it.
      // The ids stay out of this line (they are the push's plaintext); the worker's lines name
      // each entity under the same correlation id.
      const correlationId = eventCorrelationId({ eventType: parsed.eventType, eventTime, corpId: parsed.corpId, entities });
      Object.assign(summary, { correlationId, eventTime: eventTimeText(eventTime) });
      try {
        await queue.enqueue(parsed.messages.map((m) => ({ ...m, trail: { correlationId, source: 'push' as const } })));
      } catch (e) {
        // Never `success` here: DingTalk retries (+10 s, +30 s) and then lists the push as
        // failed, where the reconcile's failed-push sweep picks it up.
        logger?.error('callback not acknowledged: the queue did not accept every message', {
          ...summary,
          messages: parsed.messages.length,
          error: e instanceof Error ? e.message : String(e),
        });
        metrics?.add(METRIC.callbackServerErrors, 'Count', 1);
        return errorResponse(503);
      }
      logger?.info('callback accepted', { ...summary, messages: parsed.messages.length });
      metrics?.add(METRIC.messagesEnqueued, 'Count', parsed.messages.length);
    } else {
      logger?.info('callback acknowledged without messages', { ...summary, reason: parsed.reason, messages: 0 });
    }
    metrics?.add(METRIC.callbackAccepted, 'Count', 1);

    const reply = buildReply('success', {
      token: config.token,
      key,
      ownerKey: config.ownerKey,
      timeStamp: String(clock.now()),
      nonce: randomNonce(16),
    });
    return respond(200, JSON.stringify(reply));
  };
}
