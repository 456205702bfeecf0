import { expect, it } from 'vitest';
import { concurrencyLimit, mapLimit } from '../lib/concurrency';

it('never runs more than the limit at once, and keeps results in input order', async () => {
  let active = 0;
  let peak = 0;
  const results = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, n));
    active--;
    return n * 10;
  });
  expect(results).toEqual([50, 10, 40, 20, 30, 0, 60]);
  expect(peak).toBe(3);
});

it('frees the slot of a failed task', async () => {
  const slot = concurrencyLimit(1);
  await expect(slot(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  expect(await slot(async () => 'next')).toBe('next');
});
