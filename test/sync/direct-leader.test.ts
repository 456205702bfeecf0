import { describe, expect, it } from 'vitest';
import type { EntityState, EntityStatus } from '../../lib/ports';
import { directLeaderFor, mayLead, willLead, withoutFormerLeaders } from '../../lib/sync/direct-leader';

const state = (status: EntityStatus, owned = true): EntityState => ({ kind: 'user', id: 'm', wecomId: 'm', owned, status, updatedAt: 1, version: 1 });

describe('direct_leader', () => {
  it('is the manager when the manager can lead, else empty; never oneself', () => {
    expect(directLeaderFor({ userid: 'u', manager_userid: 'm' }, () => true)).toEqual(['m']);
    expect(directLeaderFor({ userid: 'u', manager_userid: 'm' }, () => false)).toEqual([]);
    expect(directLeaderFor({ userid: 'u' }, () => true)).toEqual([]);
    expect(directLeaderFor({ userid: 'u', manager_userid: 'u' }, () => true)).toEqual([]);
  });

  it('a manager leads once owned and synced (the worker’s rule)', () => {
    expect(mayLead(state('synced'))).toBe(true);
    expect(mayLead(state('synced', false))).toBe(false);
    for (const s of ['failed', 'pending', 'disabled', 'ignored', 'deleted'] as const) expect(mayLead(state(s))).toBe(false);
    expect(mayLead(undefined)).toBe(false);
  });

  it('the plan predicts the same after this run’s writes', () => {
    expect(willLead(undefined, true, false)).toBe(true); // created this run
    expect(willLead(state('synced'), true, false)).toBe(true);
    expect(willLead(state('disabled'), true, false)).toBe(true); // re-enabled this run
    expect(willLead(state('failed'), true, false)).toBe(false); // may fail again
    expect(willLead(state('failed', false), true, false)).toBe(false);
    expect(willLead(state('synced'), false, false)).toBe(false); // disabled or deleted this run
    expect(willLead(state('synced'), false, true)).toBe(true); // SYNC_ON_LEAVE=ignore keeps them
    expect(willLead(undefined, false, true)).toBe(false);
  });

  it('a reporting line kept from the last write loses whoever can no longer lead, and only that', () => {
    const leads = (id: string) => id !== 'gone';
    const kept = { userid: 'rep', direct_leader: ['boss'] };
    expect(withoutFormerLeaders(kept, leads)).toBe(kept); // the same object: nothing to predict
    const payload = (direct_leader?: string[]) => ({ userid: 'rep', ...(direct_leader ? { direct_leader } : {}) });
    expect(withoutFormerLeaders(payload(), leads)).toEqual({ userid: 'rep' });
    expect(withoutFormerLeaders(payload(['gone']), leads)).toEqual({ userid: 'rep', direct_leader: [] });
    expect(withoutFormerLeaders(payload(['gone', 'boss']), leads)).toEqual({ userid: 'rep', direct_leader: ['boss'] });
  });
});
