import { beforeEach, describe, expect, it } from 'vitest';
import { ERRCODE_PROTOCOL, type FailureClass } from '../lib/errors';
import { withInvocationDeadline } from '../lib/invocation-deadline';
import { createMemoryLogger } from '../lib/log';
import { PlatformHttp, type PlatformProfile } from '../lib/platform-http';
import { TokenCache } from '../lib/token-cache';
import { failure } from './support/fake-platform';

// The profile-driven branches of PlatformHttp that neither client's tests reach directly; the
// token cache is covered by test/token-cache.test.ts, the clients' own conventions by
// test/dingtalk and test/wecom.

const SECRET = 'the-SECRET';

/** The made-up platform's errcodes, one per way the profile treats them. */
const CODE = { configuration: 40001, quietConfiguration: 50002, rejectedToken: 40014, alreadyGone: 60111 } as const;
/** What PlatformHttp gives network errors, throttling statuses and bodies that are not JSON: "system busy". */
const SYSTEM_BUSY = -1;

const profile: PlatformProfile = {
  platform: 'wecom',
  classify: (errcode): FailureClass =>
    (errcode >= 500 && errcode <= 599) || errcode === ERRCODE_PROTOCOL
      ? 'retryable'
      : errcode === CODE.configuration || errcode === CODE.quietConfiguration
        ? 'configuration'
        : 'permanent',
  token: { idParam: 'id', secretParam: 'key', rejected: new Set([CODE.rejectedToken]) },
  describeConfigError: (errcode) => `fix ${errcode}`,
  quietConfigErrors: new Set([CODE.quietConfiguration]),
  throttleStatuses: new Map([[403, 'HTTP 403: wait']]),
  baseUrlSetting: 'SOME_API_BASE',
  notJsonHint: 'banned, probably',
};

type Reply = { status?: number; body: string };

/** A client whose `gettoken` answers `token` (default: succeeds) and whose other calls answer `reply`. */
function client(reply: Reply, where: { baseUrl?: string; apiPath?: string; token?: string } = {}) {
  const logger = createMemoryLogger();
  const urls: string[] = [];
  const fetchStub = (async (input: string | URL | Request) => {
    const url = new URL(String(input));
    urls.push(url.pathname + url.search);
    if (url.pathname.endsWith('/gettoken')) return new Response(where.token ?? JSON.stringify({ errcode: 0, access_token: 'TOK', expires_in: 7200 }));
    return new Response(reply.body, { status: reply.status ?? 200 });
  }) as typeof fetch;
  const http = new PlatformHttp({ ...profile, apiPath: where.apiPath }, tokens, {
    credentialId: 'corp',
    secret: SECRET,
    baseUrl: where.baseUrl ?? 'http://api.test//',
    fetch: fetchStub,
    logger,
  });
  return { http, logger, urls };
}

let tokens: TokenCache;
beforeEach(() => {
  tokens = new TokenCache();
});

describe('PlatformHttp applies the platform profile to tokens, statuses, bodies and errcodes', () => {
  it('asks gettoken with the profile parameter names and counts every request', async () => {
    const { http, urls } = client({ body: '{"errcode":0,"x":1}' });
    await expect(http.call('a/b', 'GET', { query: { q: '1' } })).resolves.toMatchObject({ x: 1 });
    expect(urls).toEqual([`/gettoken?id=corp&key=${SECRET}`, '/a/b?q=1&access_token=TOK']);
    expect(http.calls).toEqual({ gettoken: 1, 'a/b': 1 });
  });

  it('maps the HTTP status by the profile: throttled, a wrong base URL, a 5xx', async () => {
    expect(await failure(client({ status: 403, body: '' }).http.call('a', 'GET'))).toMatchObject({
      errcode: SYSTEM_BUSY,
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
      errcode: SYSTEM_BUSY,
      errmsg: 'answer is not JSON (HTTP 200): banned, probably',
      failure: 'retryable',
    });
    expect(await failure(client({ body: '[1]' }).http.call('a', 'GET'))).toMatchObject({
      errcode: ERRCODE_PROTOCOL,
      errmsg: 'answer not of the documented shape (an array, not a JSON object): check any proxy in front of SOME_API_BASE',
      failure: 'retryable',
    });
  });

  it.each([
    ['{}', 'no errcode'],
    ['{"errmsg":"ok"}', 'no errcode'],
    ['{"errcode":null,"errmsg":"ok"}', 'no errcode'],
    ['{"errcode":"zero"}', 'errcode "zero" is not an integer'],
    ['{"errcode":0.5}', 'errcode 0.5 is not an integer'],
    ['{"errcode":true}', 'errcode true is not an integer'],
    ['null', 'null, not a JSON object'],
    ['[]', 'an array, not a JSON object'],
    ['"ok"', 'string, not a JSON object'],
    ['0', 'number, not a JSON object'],
  ])('never takes %s for a success: a retryable protocol error (%s)', async (body, what) => {
    expect(await failure(client({ body }).http.call('a', 'POST', { body: {} }))).toMatchObject({
      api: 'a',
      errcode: ERRCODE_PROTOCOL,
      errmsg: `answer not of the documented shape (${what}): check any proxy in front of SOME_API_BASE`,
      failure: 'retryable',
    });
  });

  it('tells a refusal the platform answered (nothing was done) from a failure whose outcome is unknown', async () => {
    expect(await failure(client({ body: '{"errcode":-1,"errmsg":"busy"}' }).http.call('a', 'POST', { body: {} }))).toMatchObject({
      errcode: -1,
      refused: true,
    });
    expect(await failure(client({ body: '{"errcode":60008}' }).http.call('a', 'POST', { body: {} }))).toMatchObject({ refused: true });
    for (const reply of [{ status: 503, body: '' }, { body: '<html>' }, { body: '{}' }, { status: 403, body: '' }]) {
      expect(await failure(client(reply).http.call('a', 'POST', { body: {} }))).toMatchObject({ refused: false });
    }
  });

  it('takes errcode 0 as a number or as its decimal text', async () => {
    await expect(client({ body: '{"errcode":0}' }).http.call('a', 'GET')).resolves.toEqual({ errcode: 0 });
    await expect(client({ body: '{"errcode":"0","x":1}' }).http.call('a', 'GET')).resolves.toMatchObject({ x: 1 });
  });

  it('lets gettoken alone answer without an errcode, but never without an access_token', async () => {
    const documented = client({ body: '{"errcode":0}' }, { token: '{"access_token":"TOK","expires_in":7200}' });
    await expect(documented.http.call('a', 'GET')).resolves.toEqual({ errcode: 0 });
    for (const token of ['{}', '{"errcode":0,"errmsg":"ok"}', '{"access_token":""}', 'null']) {
      tokens = new TokenCache(); // nothing cached from the call before
      expect(await failure(client({ body: '{"errcode":0}' }, { token }).http.call('a', 'GET'))).toMatchObject({
        api: 'gettoken',
        errcode: ERRCODE_PROTOCOL,
        failure: 'retryable',
      });
    }
  });

  it('logs configuration errors, quietly for the expected ones, and scrubs secrets', async () => {
    const loud = client({ body: JSON.stringify({ errcode: CODE.configuration, errmsg: `bad key=${SECRET} access_token=TOK` }) });
    const e = await failure(loud.http.call('a', 'GET'));
    expect(e.errmsg).toBe('bad key=*** access_token=***');
    expect(loud.logger.entries).toContainEqual(expect.objectContaining({ level: 'error', errcode: CODE.configuration, fix: `fix ${CODE.configuration}` }));

    const quiet = client({ body: `{"errcode":"${CODE.quietConfiguration}","errmsg":"out of scope"}` });
    expect(await failure(quiet.http.call('a', 'GET'))).toMatchObject({ errcode: CODE.quietConfiguration, failure: 'configuration' });
    expect(quiet.logger.entries.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.level)).toEqual(['warn']);
  });

  it('answers the errcodes a call names as already done instead of throwing them', async () => {
    const { http } = client({ body: `{"errcode":${CODE.alreadyGone},"errmsg":"gone"}` });
    await expect(http.call('a', 'GET', { alreadyDone: new Set([CODE.alreadyGone]) })).resolves.toMatchObject({ errcode: CODE.alreadyGone });
    expect(await failure(http.call('a', 'GET'))).toMatchObject({ errcode: CODE.alreadyGone, failure: 'permanent' });
  });
});

describe('PlatformHttp takes the API origin and adds the profile’s API path itself', () => {
  it.each([
    ['http://api.test', '/gettoken?id=corp&key=the-SECRET', '/a?access_token=TOK', undefined],
    ['http://api.test', '/x/gettoken?id=corp&key=the-SECRET', '/x/a?access_token=TOK', '/x'],
    ['http://api.test/', '/x/gettoken?id=corp&key=the-SECRET', '/x/a?access_token=TOK', '/x'],
    ['http://api.test/x', '/x/gettoken?id=corp&key=the-SECRET', '/x/a?access_token=TOK', '/x'],
    ['http://api.test/x//', '/x/gettoken?id=corp&key=the-SECRET', '/x/a?access_token=TOK', '/x'],
    ['http://api.test/proxy', '/proxy/x/gettoken?id=corp&key=the-SECRET', '/proxy/x/a?access_token=TOK', '/x'],
  ])('base %s → %s, %s (API path %s)', async (baseUrl, gettoken, call, apiPath) => {
    const { http, urls } = client({ body: '{"errcode":0}' }, { baseUrl, apiPath });
    await http.call('a', 'GET');
    expect(urls).toEqual([gettoken, call]);
  });
});

describe('PlatformHttp keeps to a deadline in force', () => {
  it('sends nothing once the deadline is past: a retryable failure, no request', async () => {
    const { http, urls } = client({ body: '{"errcode":0}' });
    const err = await failure(withInvocationDeadline(Date.now() - 1, () => http.call('a/b', 'GET')));
    expect(err).toMatchObject({ errcode: SYSTEM_BUSY, failure: 'retryable' });
    expect(urls).toEqual([]);
  });

  it('waits no longer than the deadline allows, even when its own timeout is longer', async () => {
    const logger = createMemoryLogger();
    const slow = (async (_input: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)))) as typeof fetch;
    const http = new PlatformHttp(profile, tokens, {
      credentialId: 'corp',
      secret: SECRET,
      baseUrl: 'http://api.test',
      fetch: slow,
      logger,
      timeoutMs: 60_000,
    });
    const err = await failure(withInvocationDeadline(Date.now() + 1000, () => http.call('a/b', 'GET')));
    expect(err).toMatchObject({ errcode: SYSTEM_BUSY, failure: 'retryable' });
    const waited = Number(/no answer within (\d+) ms/.exec(err.errmsg)?.[1]);
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThanOrEqual(1000); // the invocation's time left, not the client's own 60,000 ms
  });
});
