/**
 * The callback check against a real receiver over HTTP: the URL check passes and reports the
 * window and the skew it measured; a receiver whose clock is far off is flagged; a wrong token and
 * a URL where nothing answers fail with their fixes.
 */
import type { Server } from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { loadCallbackConfig } from '../../lib/config';
import { createCallbackHandler } from '../../lib/dingtalk/receiver';
import { callbackChecks } from '../../lib/doctor/callback-check';
import { startDevServer } from '../../lib/local/dev-server';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { createMemoryLogger } from '../../lib/log';
import { SANDBOX_ENV } from '../../lib/sandbox/seed';
import { NOTHING_LISTENS } from '../support/nothing-listens';

const SETTINGS = {
  token: SANDBOX_ENV.DINGTALK_TOKEN,
  aesKey: SANDBOX_ENV.DINGTALK_AES_KEY,
  ownerKey: SANDBOX_ENV.DINGTALK_OWNER_KEY,
  settingsHint: 'same values as the callback',
};
let server: Server | undefined;

afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A callback whose clock runs `offsetMs` ahead of this machine's. */
async function callback(offsetMs = 0, maxSkew = '300'): Promise<string> {
  const config = loadCallbackConfig({
    DINGTALK_TOKEN: SETTINGS.token,
    DINGTALK_AES_KEY: SETTINGS.aesKey,
    DINGTALK_OWNER_KEY: SETTINGS.ownerKey,
    CALLBACK_MAX_SKEW_SECONDS: maxSkew,
  });
  const handler = createCallbackHandler({ config, queue: new InProcessQueue(), logger: createMemoryLogger(), clock: { now: () => Date.now() + offsetMs } });
  const started = await startDevServer([{ method: 'POST', path: '/dingtalk/callback', handler }], 0);
  server = started.server;
  return `${started.url}/dingtalk/callback`;
}

it('passes, with the window and the measured skew', async () => {
  const [check, clock] = await callbackChecks({ url: await callback(), ...SETTINGS, maxSkewSeconds: 300 });
  expect(check).toMatchObject({ id: 'callback.check-url', status: 'pass' });
  expect(clock).toMatchObject({
    id: 'callback.clock',
    status: 'pass',
    detail: expect.stringMatching(/^window 300 s; callback clock [+−]0\.\d s against this machine$/),
  });
});

it('a callback clock 200 s ahead: still accepted within 300 s, but past half the window is flagged', async () => {
  const [check, clock] = await callbackChecks({ url: await callback(200_000), ...SETTINGS, maxSkewSeconds: 300 });
  expect(check!.status).toBe('pass');
  expect(clock).toMatchObject({ status: 'fail', detail: expect.stringMatching(/callback clock \+(199|200|201)\.\d s/), fix: expect.stringContaining('NTP') });
});

it('a disabled freshness check is a note', async () => {
  const [, clock] = await callbackChecks({ url: await callback(0, '0'), ...SETTINGS, maxSkewSeconds: 0 });
  expect(clock).toMatchObject({ status: 'note', detail: expect.stringMatching(/freshness check off/) });
});

it('a wrong token: 401 and where to look', async () => {
  const [check, clock] = await callbackChecks({ url: await callback(), ...SETTINGS, token: 'othertoken', maxSkewSeconds: 300 });
  expect(check).toMatchObject({
    status: 'fail',
    detail: expect.stringContaining('HTTP 401'),
    fix: expect.stringMatching(/DINGTALK_TOKEN differs.*bad_signature or stale_timestamp/),
  });
  expect(clock!.status).toBe('skip');
});

it('nothing answering: the URL and the network', async () => {
  const [check] = await callbackChecks({ url: `${NOTHING_LISTENS}/dingtalk/callback`, ...SETTINGS, maxSkewSeconds: 300 });
  expect(check).toMatchObject({ status: 'fail', fix: expect.stringMatching(/^nothing answered/) });
});
