/**
 * The convergence property's judgement (lib/sandbox/convergence/scenario.ts `judge`): which
 * differences count and which dead-lettered messages are lost, with `--ignore` applied to both.
 */
import { describe, expect, it } from 'vitest';
import type { Divergence } from '../../../lib/sandbox/convergence/oracle';
import { judge } from '../../../lib/sandbox/convergence/scenario';

const deadLetter = (kind: string, id: string) => ({ body: JSON.stringify({ v: 1, kind, id, eventType: 'user_modify_org', eventTime: 1, corpId: 'c' }) });
const differs = (entity: string, what: string): Divergence => ({ entity, what, expected: [], actual: ['x'] });

describe('judge', () => {
  it('counts a dead letter whose entity still differs as lost, and one whose entity matches as made good', () => {
    const out = judge([differs('user p001', 'email')], [deadLetter('user', 'p001'), deadLetter('user', 'p002'), deadLetter('dept', '1004')], []);
    expect(out.divergences).toHaveLength(1);
    expect(out.lost).toEqual(['lost: the dead-lettered message for user p001 was never made good']);
  });

  it('sets an ignored difference aside for lost messages too: a dead letter whose entity differs only there is not lost', () => {
    // From `npm run soak -- --seed 1 --runs 5 --changes 300 --ignore direct_leader`: 0 differences, yet
    // "lost: the dead-lettered message for user p020" failed the run, from the difference ignored.
    const found = [differs('user p020', 'direct_leader'), differs('user p030', 'direct_leader'), differs('user p030', 'name')];
    const out = judge(found, [deadLetter('user', 'p020'), deadLetter('user', 'p030')], ['direct_leader']);
    expect(out.divergences).toEqual([differs('user p030', 'name')]);
    expect(out.lost).toEqual(['lost: the dead-lettered message for user p030 was never made good']);
  });
});
