/**
 * The sandbox session an operator runs: `npm start`, a signed push, then `npm run status` and
 * `npm run history` as real child processes asking the running server over HTTP.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postSignedEvent } from '../../lib/dingtalk/push';
import { SANDBOX_ENV } from '../../lib/sandbox/seed';
import { type NpmStart, startNpmStart } from '../support/npm-start';

let npmStart: NpmStart;
let url = '';

beforeAll(async () => {
  npmStart = await startNpmStart(/npm run status -- --url \S+/);
  url = /npm run status -- --url (\S+)/.exec(npmStart.output())![1]!;
}, 60_000);

afterAll(() => npmStart?.stop());

const run = async (script: string, args: string[]) =>
  (await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args], { env: { PATH: process.env.PATH }, timeout: 60_000 })).stdout;

it('npm start prints the status and history commands, and they answer from the running server', async () => {
  const push = await postSignedEvent(
    `${url}/dingtalk/callback`,
    { EventType: 'user_add_org', CorpId: 'c', UserId: ['lisi'], TimeStamp: String(Date.now()) },
    { token: SANDBOX_ENV.DINGTALK_TOKEN, aesKey: SANDBOX_ENV.DINGTALK_AES_KEY, ownerKey: SANDBOX_ENV.DINGTALK_OWNER_KEY },
  );
  expect(push.delivered).toBe(true);
  let history = '';
  for (let i = 0; i < 50 && !/created/.test(history); i++) {
    await new Promise((r) => setTimeout(r, 100));
    history = await run('scripts/history.ts', ['--url', url, '--user', 'lisi']);
  }
  expect(history).toMatch(/^history of user:lisi, newest first/);
  expect(history).toMatch(/created\s+[0-9a-f]{24}\s+user_add_org @ /);

  const status = await run('scripts/status.ts', ['--url', url]);
  expect(status).toMatch(/^status of http:\/\/127\.0\.0\.1:\d+/);
  expect(status).toMatch(/dead letters\s+0/);
  expect(status).toContain('open permanent failures: none');
}, 90_000);
