/**
 * The access-token cache both platform clients share. DingTalk and WeCom hand out 7,200-second
 * tokens from a throttled `gettoken`, so a token is fetched once per credential and reused by
 * every caller until shortly before it expires; concurrent callers wait for the same fetch.
 */
import { createHash } from 'node:crypto';
import { PlatformError } from './errors';
import type { Clock } from './ports';

/** Refresh this long before the stated expiry (or at half the lifetime, if sooner). */
const REFRESH_MARGIN_MS = 5 * 60_000;
/**
 * After gettoken answers with a configuration error (a wrong secret), callers in this container
 * get that same error for this long instead of asking again: gettoken is throttled, WeCom bans an
 * IP for an hour after repeated wrong secrets, and a burst of queue messages would repeat a call
 * that cannot succeed.
 */
const CONFIG_FAILURE_HOLD_MS = 60_000;

/** What `gettoken` gave: the token and its stated lifetime. */
export interface IssuedToken {
  token: string;
  expiresInSeconds: number;
}

interface CachedToken {
  token: string;
  /** Epoch ms after which the next caller fetches a new token. */
  refreshAt: number;
  /** Epoch ms after which the token must not be used at all. */
  expiresAt: number;
}

interface TokenSlot {
  current?: CachedToken;
  /** The gettoken under way, shared by every concurrent caller (single flight). */
  pending?: Promise<CachedToken>;
  failure?: { error: PlatformError; until: number };
}

/**
 * Tokens per credential. Each client module keeps one instance at module level, so warm Lambda
 * invocations and several client instances share a token; tests clear it through that module.
 */
export class TokenCache {
  private readonly slots = new Map<string, TokenSlot>();

  /** A valid token for `key`, fetching one with `issue` only when needed, once for all callers. */
  async get(key: string, clock: Clock, issue: () => Promise<IssuedToken>): Promise<string> {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = {};
      this.slots.set(key, slot);
    }
    const now = clock.now();
    const current = slot.current;
    if (current && now < current.refreshAt) return current.token;
    if (slot.failure && now < slot.failure.until) throw slot.failure.error;

    const s = slot;
    s.pending ??= (async () => {
      const requestedAt = clock.now();
      const { token, expiresInSeconds } = await issue();
      const lifetime = expiresInSeconds * 1000;
      // Counted from when we asked, so network time only makes us refresh earlier.
      return { token, refreshAt: requestedAt + Math.max(lifetime - REFRESH_MARGIN_MS, lifetime / 2), expiresAt: requestedAt + lifetime };
    })()
      .then(
        (fresh) => {
          s.current = fresh;
          s.failure = undefined;
          return fresh;
        },
        (err: unknown) => {
          if (err instanceof PlatformError && err.failure === 'configuration') s.failure = { error: err, until: clock.now() + CONFIG_FAILURE_HOLD_MS };
          throw err;
        },
      )
      .finally(() => {
        s.pending = undefined;
      });
    try {
      return (await s.pending).token;
    } catch (err) {
      // A refresh that failed for a passing reason must not fail calls while the old token is still valid.
      if (current && now < current.expiresAt && err instanceof PlatformError && err.retryable) return current.token;
      throw err;
    }
  }

  /** Forgets a token the platform rejected, unless a concurrent caller already replaced it. */
  drop(key: string, rejected: string): void {
    const slot = this.slots.get(key);
    if (slot?.current?.token === rejected) slot.current = undefined;
  }

  /** Forgets every token and held failure (for tests). */
  clear(): void {
    this.slots.clear();
  }
}

/** Base URL, credential id and a hash of the secret: the raw secret is never a key, and a rotated secret gets its own token. */
export function tokenCacheKey(baseUrl: string, id: string, secret: string): string {
  return `${baseUrl}\n${id}\n${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;
}
