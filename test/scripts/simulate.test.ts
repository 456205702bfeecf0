/**
 * `npm run simulate` as an operator runs it, against the receiver behind the local dev server:
 * exit 0 only when the reply is a valid encrypted success; a clear message and exit 1 otherwise.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCallbackConfig } from '../../lib/config';
import { createCallbackHandler } from '../../lib/dingtalk/receiver';
import { startDevServer } from '../../lib/local/dev-server';
import { InProcessQueue } from '../../lib/local/memory-queue';
import { runScript } from '../support/run-script';

const creds = { DINGTALK_TOKEN: 'simtoken', DINGTALK_AES_KEY: 'Zq8mN3vR7tY1uI5oP9aS2dF6gH0jK4lX8cV3bN7mQ1w', DINGTALK_OWNER_KEY: 'dingsimapp' };
let server: Server;
let url: string;
const queue = new InProcessQueue();

beforeAll(async () => {
  const handler = createCallbackHandler({ config: loadCallbackConfig(creds), queue });
  ({ server, url } = await startDevServer([{ method: 'POST', path: '/dingtalk/callback', handler }], 0));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const simulate = (args: string[], env: Record<string, string> = creds) => runScript('simulate', args, env);

describe('npm run simulate', () => {
  it('delivers a URL check and a user event, and says so', async () => {
    const check = await simulate(['--url', `${url}/dingtalk/callback`, '--check-url']);
    expect(check).toMatchObject({ code: 0 });
    expect(check.out).toMatch(/^ok: check_url delivered/);
    const event = await simulate(['--url', `${url}/dingtalk/callback`, '--event', 'user_add_org', '--user', 'zhangsan,lisi']);
    expect(event.code).toBe(0);
    expect(queue.depth).toBe(2);
  }, 60_000);

  it.each([
    ['a wrong token', ['--check-url'], { ...creds, DINGTALK_TOKEN: 'othertoken' }, /HTTP 401/],
    ['a wrong owner key', ['--check-url'], { ...creds, DINGTALK_OWNER_KEY: 'dingother' }, /HTTP 403/],
    ['no settings', ['--check-url'], {}, /DINGTALK_TOKEN is not set/],
    ['no ids', [], creds, /--check-url, or --user or --dept/],
    ['a department event with user ids', ['--event', 'org_dept_create', '--user', 'x'], creds, /does not carry user ids/],
  ])(
    'fails clearly with %s',
    async (_name, args, env, message) => {
      const r = await simulate(['--url', `${url}/dingtalk/callback`, ...args], env as Record<string, string>);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(message);
      expect(r.out).not.toContain('othertoken');
    },
    60_000,
  );

  it('fails clearly when nothing answers, or the URL is not one', async () => {
    expect(await simulate(['--url', 'http://127.0.0.1:9/dingtalk/callback', '--check-url'])).toMatchObject({
      code: 1,
      out: expect.stringMatching(/no answer/),
    });
    expect(await simulate(['--url', 'not a url', '--check-url'])).toMatchObject({ code: 1, out: expect.stringMatching(/not a valid URL/) });
    expect(await simulate(['--check-url'])).toMatchObject({ code: 1, out: expect.stringMatching(/--url is required/) });
  }, 60_000);
});
