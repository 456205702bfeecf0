/**
 * What the sandbox simulator tests share: a clock moved by hand, a JSON client for the DingTalk
 * simulator's HTTP API, a DingTalk callback receiver that checks every push with the project's
 * own crypto, independently of the simulator's code, and the errcode a model call answers with.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { buildReply, decodeAesKey, decryptMessage, randomNonce, verifySignature } from '../../lib/dingtalk/crypto';
import type { DingTalkSimulator } from '../../lib/sandbox/dingtalk-sim';
import { SimError } from '../../lib/sandbox/http';

export const T0 = 1_700_000_000_000;
/** The receiver's EncodingAESKey and token, shared with the simulator through setCallback. */
export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const TOKEN = 'sandboxtoken';

/** A clock the test moves by hand, so token expiry and rate windows are deterministic. */
export function manualClock(start = T0) {
  return {
    t: start,
    now() {
      return this.t;
    },
  };
}

export interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

/** Calls to the DingTalk simulator `sim()` returns, at its current URL. */
export function dingtalkClient(sim: () => DingTalkSimulator) {
  async function answer(res: Response): Promise<Answer> {
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
  }
  async function get(path: string, query: Record<string, string> = {}): Promise<Answer> {
    return answer(await fetch(`${sim().url}/${path}?${new URLSearchParams(query)}`));
  }
  async function post(path: string, body: unknown, token?: string): Promise<Answer> {
    const qs = token === undefined ? '' : `?access_token=${encodeURIComponent(token)}`;
    return answer(await fetch(`${sim().url}/${path}${qs}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
  }
  async function token(): Promise<string> {
    const a = await get('gettoken', { appkey: sim().appKey, appsecret: sim().appSecret });
    expect(a.json.errcode).toBe(0);
    return a.json.access_token as string;
  }
  function result(a: Answer): Record<string, unknown> {
    expect(a.json.errcode, a.text).toBe(0);
    return a.json.result as Record<string, unknown>;
  }
  return { get, post, token, result };
}

/** How a receiver answers one decrypted event. */
export type ReceiverReply = 'good' | 'wrong-owner' | 'plain' | 500;

/**
 * A callback receiver on loopback for events encrypted with AES_KEY and signed with TOKEN for
 * `appKey`; `reply` decides the answer to each event (`attempt` counts from 1). Pushes the server
 * onto `servers`, for the test to close.
 */
export async function receiver(servers: Server[], appKey: string, reply: (event: Record<string, unknown>, attempt: number) => ReceiverReply) {
  const key = decodeAesKey(AES_KEY);
  const events: Record<string, unknown>[] = [];
  const queries: URLSearchParams[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    queries.push(q);
    const encrypt = (JSON.parse(raw) as { encrypt: string }).encrypt;
    // Independent verification with the project's crypto, exactly as the real callback does.
    if (!verifySignature(TOKEN, q.get('timestamp')!, q.get('nonce')!, encrypt, q.get('msg_signature')!)) {
      res.writeHead(403).end('bad signature');
      return;
    }
    const event = JSON.parse(decryptMessage(encrypt, key, appKey)) as Record<string, unknown>;
    events.push(event);
    const how = reply(event, events.length);
    if (how === 500) {
      res.writeHead(500).end('boom');
      return;
    }
    if (how === 'plain') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: 'success' }));
      return;
    }
    const body = buildReply('success', {
      token: TOKEN,
      key,
      ownerKey: how === 'wrong-owner' ? 'someone-else' : appKey,
      timeStamp: String(Date.now()),
      nonce: randomNonce(16),
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dingtalk/callback`;
  return { url, events, queries };
}

/** Closes every server in `servers` and empties it. */
export async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
}

/**
 * What the API would answer for a call into a simulator's model: errcode 0 with the result's
 * fields, or the errcode of the SimError thrown. Lets model tests state rules as API answers.
 */
export function answer(call: () => unknown): Record<string, unknown> & { errcode: number } {
  try {
    const result = call();
    return { errcode: 0, ...(typeof result === 'object' && result !== null ? result : {}) };
  } catch (e) {
    if (e instanceof SimError) return { errcode: e.errcode };
    throw e;
  }
}

/** Just the errcode of `answer`. */
export const code = (call: () => unknown): number => answer(call).errcode;
