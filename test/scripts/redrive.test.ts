/**
 * `npm run redrive` as a new user's shell meets it: missing queues, no AWS region. One line and
 * a failing exit, never a stack trace; settings it does not use do not stop it.
 */
import { expect, it } from 'vitest';
import { runScript } from '../support/run-script';

// No AWS region or credentials anywhere: what a new user's shell has.
const redrive = (env: Record<string, string>) =>
  runScript('redrive', [], { HOME: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', ...env });

const queues = {
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/changes.fifo',
  DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq.fifo',
};

it.each([
  ['no queues', {}, /^redrive: set QUEUE_URL and DLQ_URL/],
  ['no AWS region', queues, /^redrive: could not move messages: .*region/i],
])(
  '%s stops it with one line and no stack trace',
  async (_what, env, line) => {
    const { code, out } = await redrive(env);
    expect(code).not.toBe(0);
    expect(out).not.toMatch(/^\s+at /m);
    expect(out.trim().split('\n')[0]).toMatch(line);
    expect(out.trim().split('\n').length).toBeLessThanOrEqual(2); // the line, and the usage
  },
  60_000,
);

it('settings it does not use (PORT, LOG_LEVEL) do not stop it', async () => {
  const { out } = await redrive({ PORT: 'abc', LOG_LEVEL: 'verbose' });
  expect(out).not.toMatch(/PORT|LOG_LEVEL/);
  expect(out).toMatch(/^redrive: set QUEUE_URL and DLQ_URL/);
}, 60_000);
