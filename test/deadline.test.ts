import { describe, expect, it } from 'vitest';
import { timeLeftMs, withDeadline } from '../lib/deadline';

describe('a deadline travels with the async call chain', () => {
  it('is absent outside any work that set one', () => {
    expect(timeLeftMs()).toBeUndefined();
  });

  it('is seen by everything the work awaits, and an earlier one already in force is kept', async () => {
    const seen = await withDeadline(1_000, async () => {
      await Promise.resolve();
      const inner = await withDeadline(5_000, async () => timeLeftMs(0));
      const tighter = await withDeadline(500, async () => timeLeftMs(0));
      return { outer: timeLeftMs(0), inner, tighter };
    });
    expect(seen).toEqual({ outer: 1_000, inner: 1_000, tighter: 500 });
    expect(timeLeftMs()).toBeUndefined();
  });

  it('is negative once past', async () => {
    expect(await withDeadline(100, async () => timeLeftMs(250))).toBe(-150);
  });
});
