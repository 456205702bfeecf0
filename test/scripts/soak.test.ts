/**
 * `npm run soak`'s arguments: one it cannot use exits 2 with a line saying which, never a stack
 * trace and never 1, which says the property failed.
 */
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/run-script';

const soak = (args: string[]) => runScript('soak', args);

describe('npm run soak', () => {
  it.each([
    [['--run', '5'], /Unknown option '--run'/],
    [['7'], /positional/],
    [['--path', 'x:1'], /--path x:1: not a fast-check path/],
    // fast-check would run seed 0 and report it: another scenario than asked for.
    [['--seed', String(2 ** 40)], /--seed 1099511627776: not valid/],
    [['--fault-rate', ''], /--fault-rate : not valid/],
    [['--runs', '0'], /--runs 0: not valid/],
  ])('refuses %j: exit 2 and why', async (args, why) => {
    const { code, out } = await soak(args);
    expect(code).toBe(2);
    expect(out).toMatch(why);
    expect(out).toContain('usage: npm run soak');
    expect(out).not.toMatch(/\n\s+at /);
  });

  it('runs a tiny property to the end: exit 0', async () => {
    const { code, out } = await soak(['--seed', '1', '--runs', '1', '--changes', '2']);
    expect(out).toContain('converged: 1 scenarios of up to 2 changes, seed 1');
    expect(code).toBe(0);
  });
});
