/**
 * The convergence property's runner (lib/sandbox/convergence/property.ts): what a replay by
 * fast-check's path runs. Small scenarios, so each run takes well under a second.
 */
import { describe, expect, it } from 'vitest';
import { checkConvergence } from '../../../lib/sandbox/convergence/property';

describe('checkConvergence', () => {
  it('replays the scenario at a path alone: once it passes, no later candidate of that shrink step is run', async () => {
    // Given a path with a shrink step, fast-check goes on to every later sibling until one fails:
    // `npm run soak -- --seed 1 --path 0:6:0:1:8` ran scenario after scenario once the failure
    // it named was fixed.
    let runs = 0;
    const outcome = await checkConvergence({ seed: 1, runs: 5, changes: 4, path: '0:1', onRun: () => runs++ });
    expect(outcome.ok, outcome.report).toBe(true);
    expect(runs).toBe(1);
    expect(outcome.report).toContain('the scenario at path 0:1');
  }, 60_000);
});
