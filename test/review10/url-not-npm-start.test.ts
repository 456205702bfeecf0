/**
 * Review 10: `--url` pointing at a server that answers 200 JSON but is not npm start. The CLI
 * should refuse the answer, not print it as a report (exit 0) or crash with a TypeError.
 */
import { expect, it } from 'vitest';
import { historyCommand, statusCommand } from '../../scripts/operations-cli';

const notNpmStart = (async () => new Response('{"hello":"world"}', { status: 200, headers: { 'content-type': 'application/json' } })) as typeof fetch;

it('status --json refuses an answer that is not a status report', async () => {
  const r = await statusCommand(['--url', 'http://127.0.0.1:9', '--json'], { fetch: notNpmStart });
  expect(r.code).not.toBe(0);
});

it('status (table) says the answer is not a status report rather than a TypeError', async () => {
  const r = await statusCommand(['--url', 'http://127.0.0.1:9'], { fetch: notNpmStart });
  expect(r.code).toBe(1);
  expect(r.stderr).not.toMatch(/TypeError|Cannot read|undefined/);
});

it('history --json refuses an answer without items[]', async () => {
  const r = await historyCommand(['--url', 'http://127.0.0.1:9', '--user', 'lisi', '--json'], { fetch: notNpmStart });
  expect(r.code).not.toBe(0);
});

it('history (table) says the answer is not a history rather than a TypeError', async () => {
  const r = await historyCommand(['--url', 'http://127.0.0.1:9', '--user', 'lisi'], { fetch: notNpmStart });
  expect(r.code).toBe(1);
  expect(r.stderr).not.toMatch(/TypeError|Cannot read|undefined/);
});
