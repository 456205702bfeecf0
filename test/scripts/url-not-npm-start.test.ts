/**
 * `--url` pointing at a server that answers 200 JSON but is not npm start: the commands refuse
 * the answer with one line saying so, rather than print it as a report (exit 0) or fail with a
 * TypeError.
 */
import { expect, it } from 'vitest';
import { historyCommand, statusCommand } from '../../scripts/operations-cli';

const notNpmStart = (async () => new Response('{"hello":"world"}', { status: 200, headers: { 'content-type': 'application/json' } })) as typeof fetch;

it('status --json refuses an answer that is not a status report', async () => {
  const r = await statusCommand(['--url', 'http://127.0.0.1:9', '--json'], { fetch: notNpmStart });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe("status: GET http://127.0.0.1:9/status did not answer a status report (is it npm start's URL?)\n");
});

it('status (table) says the answer is not a status report rather than a TypeError', async () => {
  const r = await statusCommand(['--url', 'http://127.0.0.1:9'], { fetch: notNpmStart });
  expect(r.code).toBe(1);
  expect(r.stderr).not.toMatch(/TypeError|Cannot read|undefined/);
});

it('history --json refuses an answer without items[]', async () => {
  const r = await historyCommand(['--url', 'http://127.0.0.1:9', '--user', 'lisi', '--json'], { fetch: notNpmStart });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe("history: GET http://127.0.0.1:9/history/user/lisi did not answer a history (is it npm start's URL?)\n");
});

it('history (table) says the answer is not a history rather than a TypeError', async () => {
  const r = await historyCommand(['--url', 'http://127.0.0.1:9', '--user', 'lisi'], { fetch: notNpmStart });
  expect(r.code).toBe(1);
  expect(r.stderr).not.toMatch(/TypeError|Cannot read|undefined/);
});
