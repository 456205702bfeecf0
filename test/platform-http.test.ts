import { beforeEach, describe, expect, it } from 'vitest';
import { type FailureClass, PlatformError } from '../lib/errors';
import { createMemoryLogger } from '../lib/log';
import { PlatformHttp, type PlatformProfile } from '../lib/platform-http';
import { TokenCache } from '../lib/token-cache';

// The profile-driven branches of PlatformHttp that neither client's tests reach directly; the
// token cache and the clients' own conventions are covered by test/dingtalk and test/wecom.

const SECRET = 'the-SECRET';

const profile: PlatformProfile = {
  platform: 'wecom',
  classify: (errcode): FailureClass =>
    errcode >= 500 && errcode <= 599 ? 'retryable' : errcode === 40001 || errcode === 50002 ? 'configuration' : 'permanent',
  badAnswerErrcode: -2,
  token: { idParam: 'id', secretParam: 'key', rejected: new Set([40014]) },
  describeConfigError: (errcode) => `fix ${errcode}`,
  quietConfigErrors: new Set([50002]),
  throttleStatuses: new Map([[403, 'HTTP 403: wait']]),
  baseUrlSetting: 'SOME_API_BASE',
  notJsonHint: 'banned, probably',
};

type Reply = { status?: number; body: string };

/** A client whose `gettoken` always succeeds and whose other calls answer `reply`. */
function client(reply: Reply) {
  const logger = createMemoryLogger();
  const urls: string[] = [];
  const fetchStub = (async (input: string | URL | Request) => {
    const url = new URL(String(input));
    urls.push(url.pathname + url.search);
    if (url.pathname === '/gettoken') return new Response(JSON.stringify({ errcode: 0, access_token: 'TOK', expires_in: 7200 }));
    return new Response(reply.body, { status: reply.status ?? 200 });
  }) as typeof fetch;
  const http = new PlatformHttp(profile, tokens, { credentialId: 'corp', secret: SECRET, baseUrl: 'http://api.test//', fetch: fetchStub, logger });
  return { http, logger, urls };
}

async function failure(p: Promise<unknown>): Promise<PlatformError> {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof PlatformError)) throw new Error(`expected a PlatformError, got ${String(e)}`);
  return e;
}

let tokens: TokenCache;
beforeEach(() => {
  tokens = new TokenCache();
});

describe('PlatformHttp', () => {
  it('asks gettoken with the profile parameter names and counts every request', async () => {
    const { http, urls } = client({ body: '{"errcode":0,"x":1}' });
    await expect(http.call('a/b', 'GET', { query: { q: '1' } })).resolves.toMatchObject({ x: 1 });
    expect(urls).toEqual([`/gettoken?id=corp&key=${SECRET}`, '/a/b?q=1&access_token=TOK']);
    expect(http.calls).toEqual({ gettoken: 1, 'a/b': 1 });
  });

  it('maps the HTTP status by the profile: throttled, a wrong base URL, a 5xx', async () => {
    expect(await failure(client({ status: 403, body: '' }).http.call('a', 'GET'))).toMatchObject({
      errcode: -1,
      errmsg: 'HTTP 403: wait',
      failure: 'retryable',
    });
    expect(await failure(client({ status: 429, body: '' }).http.call('a', 'GET'))).toMatchObject({
      errcode: 429,
      errmsg: 'HTTP 429: check SOME_API_BASE and any proxy in between',
      failure: 'configuration',
    });
    expect(await failure(client({ status: 503, body: '' }).http.call('a', 'GET'))).toMatchObject({ errcode: 503, failure: 'retryable' });
  });

  it('tells a body that is not JSON from JSON that is not an object', async () => {
    expect(await failure(client({ body: '<html>' }).http.call('a', 'GET'))).toMatchObject({
      errcode: -1,
      errmsg: 'answer is not JSON (HTTP 200): banned, probably',
      failure: 'retryable',
    });
    expect(await failure(client({ body: '[1]' }).http.call('a', 'GET'))).toMatchObject({
      errcode: -2,
      errmsg: 'unusable answer: not a JSON object',
      failure: 'permanent',
    });
  });

  it('logs configuration errors, quietly for the expected ones, and scrubs secrets', async () => {
    const loud = client({ body: JSON.stringify({ errcode: 40001, errmsg: `bad key=${SECRET} access_token=TOK` }) });
    const e = await failure(loud.http.call('a', 'GET'));
    expect(e.errmsg).toBe('bad key=*** access_token=***');
    expect(loud.logger.entries).toContainEqual(expect.objectContaining({ level: 'error', errcode: 40001, fix: 'fix 40001' }));

    const quiet = client({ body: '{"errcode":"50002","errmsg":"out of scope"}' });
    expect(await failure(quiet.http.call('a', 'GET'))).toMatchObject({ errcode: 50002, failure: 'configuration' });
    expect(quiet.logger.entries.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.level)).toEqual(['warn']);
  });

  it('answers the errcodes a call names as already done instead of throwing them', async () => {
    const { http } = client({ body: '{"errcode":60111,"errmsg":"gone"}' });
    await expect(http.call('a', 'GET', { alreadyDone: new Set([60111]) })).resolves.toMatchObject({ errcode: 60111 });
    expect(await failure(http.call('a', 'GET'))).toMatchObject({ errcode: 60111, failure: 'permanent' });
  });
});
