/**
 * The token cache on its own, with a hand-moved clock: when it asks `gettoken`, what it shares,
 * and what it does with failures. The clients' tests (test/dingtalk, test/wecom) check the same
 * rules end to end against a fake platform.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PlatformError } from '../lib/errors';
import { type IssuedToken, TokenCache, tokenCacheKey } from '../lib/token-cache';
import { WECOM_ERR } from '../lib/wecom/errors';
import { failure, fakeClock } from './support/fake-platform';

const KEY = 'http://api.test\ncorp\nabcdef';
const MINUTE = 60_000;

/** A gettoken stand-in that counts its calls and issues `tok-N` tokens of `seconds` lifetime. */
function issuer(seconds = 7200) {
  const calls = { n: 0 };
  let next: (() => Promise<IssuedToken>) | undefined;
  const issue = (): Promise<IssuedToken> => {
    calls.n++;
    if (next) return next();
    return Promise.resolve({ token: `tok-${calls.n}`, expiresInSeconds: seconds });
  };
  return {
    calls,
    issue,
    /** Replaces what the next calls answer (until set back to undefined). */
    answer(fn: (() => Promise<IssuedToken>) | undefined) {
      next = fn;
    },
  };
}

const busy = () => new PlatformError('wecom', 'gettoken', WECOM_ERR.systemBusy, 'system busy', 'retryable');
const badSecret = () => new PlatformError('wecom', 'gettoken', WECOM_ERR.badSecret, 'invalid credential', 'configuration');

let cache: TokenCache;
let clock: ReturnType<typeof fakeClock>;
beforeEach(() => {
  cache = new TokenCache();
  clock = fakeClock();
});

describe('a token is fetched once and shared until shortly before it expires', () => {
  it('reuses the token for every later caller of the same key', async () => {
    const gettoken = issuer();
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-1');
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-1');
    expect(gettoken.calls.n).toBe(1);
  });

  it('keeps keys apart', async () => {
    const gettoken = issuer();
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-1');
    expect(await cache.get(`${KEY}-other`, clock, gettoken.issue)).toBe('tok-2');
  });

  it('lets concurrent callers share one gettoken', async () => {
    const gettoken = issuer();
    const tokens = await Promise.all([cache.get(KEY, clock, gettoken.issue), cache.get(KEY, clock, gettoken.issue), cache.get(KEY, clock, gettoken.issue)]);
    expect(tokens).toEqual(['tok-1', 'tok-1', 'tok-1']);
    expect(gettoken.calls.n).toBe(1);
  });

  it('refreshes 5 minutes before the stated expiry, counted from when it asked', async () => {
    const gettoken = issuer(7200);
    await cache.get(KEY, clock, gettoken.issue);
    clock.t += 114 * MINUTE + 59_999;
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-1');
    clock.t += 1;
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-2');
  });

  it('refreshes at half the lifetime when that comes sooner (short-lived tokens)', async () => {
    const gettoken = issuer(400); // 6 min 40 s: 5 minutes before expiry would be at 1 min 40 s
    await cache.get(KEY, clock, gettoken.issue);
    clock.t += 199_999;
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-1');
    clock.t += 1;
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-2');
  });
});

describe('a failed gettoken fails only the callers it must', () => {
  it('keeps handing out a still-valid token when an early refresh fails for a passing reason', async () => {
    const gettoken = issuer();
    await cache.get(KEY, clock, gettoken.issue);
    clock.t += 116 * MINUTE; // inside the refresh margin, not yet expired
    gettoken.answer(() => Promise.reject(busy()));
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-1');
    clock.t += 4 * MINUTE; // now expired: the failure shows
    expect(await failure(cache.get(KEY, clock, gettoken.issue))).toMatchObject({ errcode: WECOM_ERR.systemBusy });
  });

  it('asks again at once after a passing failure', async () => {
    const gettoken = issuer();
    gettoken.answer(() => Promise.reject(busy()));
    await failure(cache.get(KEY, clock, gettoken.issue));
    gettoken.answer(undefined);
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-2');
  });

  it('holds a configuration failure for a minute instead of asking again', async () => {
    const gettoken = issuer();
    gettoken.answer(() => Promise.reject(badSecret()));
    expect(await failure(cache.get(KEY, clock, gettoken.issue))).toMatchObject({ errcode: WECOM_ERR.badSecret });
    clock.t += MINUTE - 1;
    expect(await failure(cache.get(KEY, clock, gettoken.issue))).toMatchObject({ errcode: WECOM_ERR.badSecret });
    expect(gettoken.calls.n).toBe(1);
    gettoken.answer(undefined);
    clock.t += 1;
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-2');
  });
});

describe('a rejected token is replaced, once, and clear() forgets everything', () => {
  it('drops the rejected token so the next caller fetches a new one', async () => {
    const gettoken = issuer();
    await cache.get(KEY, clock, gettoken.issue);
    cache.drop(KEY, 'tok-1');
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-2');
  });

  it('keeps a token a concurrent caller already fetched in place of the rejected one', async () => {
    const gettoken = issuer();
    await cache.get(KEY, clock, gettoken.issue);
    cache.drop(KEY, 'tok-1');
    await cache.get(KEY, clock, gettoken.issue);
    cache.drop(KEY, 'tok-1'); // a second caller reporting the same old token
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-2');
    expect(gettoken.calls.n).toBe(2);
  });

  it('clear() forgets tokens and held failures', async () => {
    const gettoken = issuer();
    await cache.get(KEY, clock, gettoken.issue);
    cache.clear();
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-2');
    gettoken.answer(() => Promise.reject(badSecret()));
    cache.clear();
    await failure(cache.get(KEY, clock, gettoken.issue));
    cache.clear();
    gettoken.answer(undefined);
    expect(await cache.get(KEY, clock, gettoken.issue)).toBe('tok-4');
  });
});

describe('the cache key never holds the secret, and changes with it', () => {
  it('hashes the secret', () => {
    const key = tokenCacheKey('http://api.test', 'corp', 'the-secret');
    expect(key).not.toContain('the-secret');
    expect(key).toContain('corp');
    expect(tokenCacheKey('http://api.test', 'corp', 'the-secret')).toBe(key);
    expect(tokenCacheKey('http://api.test', 'corp', 'rotated')).not.toBe(key);
    expect(tokenCacheKey('http://other.test', 'corp', 'the-secret')).not.toBe(key);
  });
});
