/**
 * The callback under hostile input, over real HTTP: thousands of mutated requests (bit flips in
 * `encrypt`, truncated and oversized bodies, wrong content types, duplicated and missing query
 * parameters, bytes that are not UTF-8, deeply nested JSON) sent to the receiver behind the local
 * dev server. None may be accepted or enqueue anything, none may get a 5xx or leave an unhandled
 * rejection, and the server must still answer a genuine push afterwards.
 *
 * Mutations come from fast-check with a fixed seed, so a failure reproduces: the seed and the
 * shrunk request are in the failure message.
 */

import type { Server } from 'node:http';
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCallbackConfig } from '../../lib/config';
import { judgeReply, signedRequest } from '../../lib/dingtalk/push';
import { createCallbackHandler } from '../../lib/dingtalk/receiver';
import { startDevServer } from '../../lib/local/dev-server';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { createMemoryLogger } from '../../lib/log';

const creds = { token: 'fuzztoken', aesKey: 'Zq8mN3vR7tY1uI5oP9aS2dF6gH0jK4lX8cV3bN7mQ1w', ownerKey: 'dingfuzzapp' };
const MAX_BODY_BYTES = 4096;
const SEED = 20261201;
/** Requests per kind of mutation; seven kinds, so well over 5,000 in all. */
const RUNS = 800;

let server: Server;
let origin: string;
const queue = new InProcessQueue();
const logger = createMemoryLogger();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const seen = { requests: 0, accepted: 0, serverErrors: 0, statuses: new Map<number, number>() };

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  const config = loadCallbackConfig({
    DINGTALK_TOKEN: creds.token,
    DINGTALK_AES_KEY: creds.aesKey,
    DINGTALK_OWNER_KEY: creds.ownerKey,
    CALLBACK_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  });
  const handler = createCallbackHandler({ config, queue, logger });
  ({ server, url: origin } = await startDevServer([{ method: 'POST', path: '/dingtalk/callback', handler }], 0));
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface RawRequest {
  /** Query string without the `?`, sent as is (duplicates and all). */
  query: string;
  body: Buffer;
  contentType?: string;
}

function send(r: RawRequest): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-length': r.body.length };
    if (r.contentType !== undefined) headers['content-type'] = r.contentType;
    const req = request(`${origin}/dingtalk/callback?${r.query}`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** A genuine push: what every mutation starts from. */
function genuine(): { query: URLSearchParams; body: string } {
  const event = JSON.stringify({ EventType: 'user_modify_org', CorpId: 'dingcorp', UserId: ['zhangsan', '184919295227658120'], TimeStamp: String(Date.now()) });
  return signedRequest(event, creds);
}

/** Sends a mutated request and records what came back; the property holds when it was refused with a 4xx. */
async function refused(r: RawRequest): Promise<boolean> {
  const before = queue.depth;
  const { status, text } = await send(r);
  seen.requests++;
  seen.statuses.set(status, (seen.statuses.get(status) ?? 0) + 1);
  if (status >= 500) seen.serverErrors++;
  if (judgeReply(status, text, creds) === undefined) seen.accepted++;
  return status >= 400 && status < 500 && queue.depth === before;
}

const json = 'application/json';
const property = (arb: fc.Arbitrary<RawRequest>) => fc.assert(fc.asyncProperty(arb, refused), { seed: SEED, numRuns: RUNS });

describe('the callback refuses hostile input', () => {
  it('a bit flipped anywhere in `encrypt` (signature left as it was)', async () => {
    await property(
      fc.nat().chain((n) =>
        fc.constant(n).map((bitSeed) => {
          const { query, body } = genuine();
          const encrypt = Buffer.from((JSON.parse(body) as { encrypt: string }).encrypt, 'base64');
          const bit = bitSeed % (encrypt.length * 8);
          encrypt[bit >> 3]! ^= 1 << (bit & 7);
          return { query: query.toString(), body: Buffer.from(JSON.stringify({ encrypt: encrypt.toString('base64') })), contentType: json };
        }),
      ),
    );
  });

  it('a body cut short anywhere, or grown past the size limit', async () => {
    await property(
      fc.oneof(
        fc.nat().map((n) => {
          const { query, body } = genuine();
          const raw = Buffer.from(body);
          return { query: query.toString(), body: raw.subarray(0, n % raw.length), contentType: json };
        }),
        fc.integer({ min: MAX_BODY_BYTES + 1, max: 4 * MAX_BODY_BYTES }).map((size) => {
          const { query, body } = genuine();
          const padded = `${body.slice(0, -1)},"pad":"${'x'.repeat(size)}"}`;
          return { query: query.toString(), body: Buffer.from(padded), contentType: json };
        }),
      ),
    );
  });

  it('a content type that is not JSON, or none with a corrupted body', async () => {
    await property(
      fc.oneof(
        fc
          .constantFrom('text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'image/png', 'application/xml', 'text/html')
          .map((contentType) => {
            const { query, body } = genuine();
            return { query: query.toString(), body: Buffer.from(body), contentType };
          }),
        // No content type at all is let through to the signature check, which must then refuse.
        fc.nat().map((n) => {
          const { query, body } = genuine();
          const raw = Buffer.from(body);
          const i = 12 + (n % (raw.length - 14)); // inside the base64 of `encrypt`
          raw[i] = raw[i] === 0x41 ? 0x42 : 0x41;
          return { query: query.toString(), body: raw };
        }),
      ),
    );
  });

  it('query parameters missing, emptied, duplicated or swapped', async () => {
    const names = ['msg_signature', 'signature', 'timestamp', 'nonce'] as const;
    /** What the receiver reads: the first non-empty of the two names, duplicates joined as API Gateway joins them. */
    const effective = (p: URLSearchParams) => {
      const read = (n: string) => p.getAll(n).join(',');
      return [read('msg_signature') || read('signature'), read('timestamp') || read('timeStamp'), read('nonce')].join('|');
    };
    await property(
      fc
        .record({ drop: fc.subarray([...names]), duplicate: fc.subarray([...names]), empty: fc.subarray([...names]), swap: fc.boolean() })
        .map((m) => {
          const { query, body } = genuine();
          const params = new URLSearchParams(query);
          for (const n of m.empty) params.set(n, '');
          for (const n of m.duplicate) params.append(n, 'x');
          for (const n of m.drop) params.delete(n);
          if (m.swap) {
            const ts = params.get('timestamp');
            params.set('timestamp', params.get('nonce') ?? '');
            params.set('nonce', ts ?? '');
          }
          return { changed: effective(params) !== effective(query), request: { query: params.toString(), body: Buffer.from(body), contentType: json } };
        })
        // Dropping only one of the two signature names is DingTalk's documented fallback, not tampering.
        .filter((m) => m.changed)
        .map((m) => m.request),
    );
  });

  it('bytes that are not UTF-8, inside or around the JSON', async () => {
    await property(
      fc
        .record({
          bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b.map((x) => x | 0x80))),
          at: fc.double({ min: 0, max: 1, noNaN: true }),
        })
        .map(({ bytes, at }) => {
          const { query, body } = genuine();
          const raw = Buffer.from(body);
          const i = Math.floor(raw.length * at);
          return { query: query.toString(), body: Buffer.concat([raw.subarray(0, i), bytes, raw.subarray(i)]), contentType: json };
        }),
    );
  });

  it('deeply nested JSON, with and without an `encrypt` inside it', async () => {
    await property(
      fc
        .record({ depth: fc.integer({ min: 100, max: 2000 }), kind: fc.constantFrom('[', '{"encrypt":'), inner: fc.boolean() })
        .map(({ depth, kind, inner }) => {
          const { query, body } = genuine();
          const close = kind === '[' ? ']' : '}';
          const core = inner ? body : '0';
          return { query: query.toString(), body: Buffer.from(kind.repeat(depth) + core + close.repeat(depth)), contentType: json };
        }),
    );
  });

  it('a genuine body replayed with another request’s signature, timestamp or nonce', async () => {
    await property(
      fc.record({ swap: fc.constantFrom('msg_signature', 'timestamp', 'nonce'), skew: fc.integer({ min: 1, max: 100_000 }) }).map(({ swap, skew }) => {
        const a = genuine();
        const b = signedRequest('{"EventType":"check_url"}', creds, String(Number(a.query.get('timestamp')) - skew));
        const params = new URLSearchParams(a.query);
        const other = b.query.get(swap) ?? '';
        params.set(swap, other);
        if (swap === 'msg_signature') params.set('signature', other);
        return { query: params.toString(), body: Buffer.from(a.body), contentType: json };
      }),
    );
  });

  it('afterwards: nothing was accepted or enqueued, no 5xx, no unhandled rejection, and a genuine push still succeeds', async () => {
    expect(seen.requests).toBeGreaterThanOrEqual(5000);
    expect(seen.accepted).toBe(0);
    expect(seen.serverErrors).toBe(0);
    expect(queue.depth).toBe(0);
    expect(unhandled).toEqual([]);
    const { query, body } = genuine();
    const reply = await send({ query: query.toString(), body: Buffer.from(body), contentType: json });
    expect(judgeReply(reply.status, reply.text, creds)).toBeUndefined();
    expect(queue.depth).toBe(2);
    // The statuses seen, for the record (e.g. 400 bad body, 401 signature, 413 too large).
    expect([...seen.statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
  });
});
