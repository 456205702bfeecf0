import { describe, expect, it } from 'vitest';
import { DEADLINE_RESERVE_MS, invocationDeadline, waitDeadline, withInvocationDeadline, withLambdaDeadline } from '../lib/invocation-deadline';

describe('waitDeadline', () => {
  it('keeps DEADLINE_RESERVE_MS of the invocation back for handing the work back', () => {
    expect(waitDeadline(0, 60_000)).toBe(60_000 - DEADLINE_RESERVE_MS);
  });

  it('keeps half back when the invocation is too short for the reserve', () => {
    expect(waitDeadline(0, 1_000)).toBe(500);
    expect(waitDeadline(5_000, 1_000)).toBe(5_000); // already over: no time to wait at all
  });
});

describe('withInvocationDeadline', () => {
  it('gives each invocation its own deadline, however they interleave', async () => {
    const seen: (number | undefined)[] = [];
    const run = (deadline: number, pause: number) =>
      withInvocationDeadline(deadline, async () => {
        await new Promise((r) => setTimeout(r, pause));
        seen.push(invocationDeadline());
      });
    await Promise.all([run(1, 20), run(2, 5)]);
    expect(seen).toEqual([2, 1]);
    expect(invocationDeadline()).toBeUndefined();
  });

  it('takes the deadline of a Lambda context, and none without one', async () => {
    const before = Date.now();
    const deadline = await withLambdaDeadline({ getRemainingTimeInMillis: () => 60_000 }, async () => invocationDeadline());
    expect(deadline).toBeGreaterThanOrEqual(before + 60_000 - DEADLINE_RESERVE_MS);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 60_000 - DEADLINE_RESERVE_MS);
    expect(await withLambdaDeadline(undefined, async () => invocationDeadline())).toBeUndefined();
  });
});
