import { describe, expect, it } from 'vitest';
import type { EntityState } from '../../lib/ports';
import {
  caseConflictMessage,
  claimedDeptPresent,
  claimedUserPresent,
  deptHeldByAnother,
  indexWeComMembers,
  matchUnownedUser,
  matchUser,
  mayAdoptDept,
  ownsInWeCom,
  userKey,
} from '../../lib/sync/identity';

const state = (over: Partial<EntityState>): EntityState => ({ kind: 'user', id: 'abc', owned: false, status: 'pending', updatedAt: 1, version: 1, ...over });

describe('userids, as WeCom compares them', () => {
  it('are found ignoring case, each member once with its own spelling and all its departments', () => {
    const members = indexWeComMembers([
      { userid: 'Abc', department: 2 },
      { userid: 'Abc', department: 4 },
      { userid: 'x', department: 1 },
    ]);
    expect(userKey('ABC')).toBe('abc');
    expect(members.get(userKey('aBC'))).toEqual({ userid: 'Abc', departments: new Set([2, 4]) });
    expect(members.size).toBe(2);
  });

  it('match only with exactly the same spelling; another spelling is a conflict, nothing is absent', () => {
    expect(matchUser('abc', undefined)).toEqual({ kind: 'absent' });
    expect(matchUser('Abc', { userid: 'Abc' })).toEqual({ kind: 'same' });
    expect(matchUser('abc', { userid: 'Abc' })).toEqual({ kind: 'case_conflict', wecomUserid: 'Abc' });
  });

  it('an exact match another owned state holds is not free', () => {
    const members = indexWeComMembers([{ userid: 'abc', department: 2 }]);
    expect(matchUnownedUser('abc', members, new Map())).toEqual({ kind: 'same' });
    expect(matchUnownedUser('abc', members, new Map([['abc', 'abc']]))).toEqual({ kind: 'same' });
    expect(matchUnownedUser('abc', members, new Map([['abc', 'ABC']]))).toEqual({ kind: 'case_conflict', wecomUserid: 'abc', heldBy: 'ABC' });
  });

  it('a conflict message names both spellings, or the holder', () => {
    expect(caseConflictMessage({ wecomUserid: 'Abc' }, 'abc')).toMatch(/"Abc".*"abc" only in case/);
    expect(caseConflictMessage({ wecomUserid: 'abc', heldBy: 'ABC' }, 'abc')).toMatch(/"abc" already belongs to DingTalk user "ABC"/);
  });
});

describe('adopting a WeCom department with the wanted id', () => {
  it('only under the parent the copy belongs under', () => {
    expect(mayAdoptDept({ parentid: 2 }, 2, false)).toBe(true);
    expect(mayAdoptDept({ parentid: 1 }, 2, false)).toBe(false);
    expect(mayAdoptDept({ parentid: 1 }, undefined, false)).toBe(false);
  });

  it('never one the store records as another DingTalk department’s copy, even under the same parent', () => {
    expect(mayAdoptDept({ parentid: 2 }, 2, true)).toBe(false);
  });

  it('is held by another record when the store records it as that record’s copy', () => {
    const dept = (over: Partial<EntityState>) => state({ kind: 'dept', id: '1010', ...over });
    const existing = { id: 1011, parentid: 1 };
    expect(deptHeldByAnother([dept({ owned: true, status: 'synced', wecomId: '1011' })], '1011', existing)).toBe(true);
    expect(deptHeldByAnother([dept({ owned: true, status: 'deleted', wecomId: '1011' })], '1011', existing)).toBe(false);
    expect(deptHeldByAnother([dept({ status: 'pending', claim: { wecomId: '1011' } })], '1011', existing)).toBe(false);
    expect(deptHeldByAnother([dept({ id: '1011', owned: true, status: 'synced', wecomId: '1011' })], '1011', existing)).toBe(false); // its own
  });
});

describe('ownership', () => {
  it('owned means recorded as owned, with a WeCom id, not deleted', () => {
    expect(ownsInWeCom(state({ owned: true, wecomId: 'abc', status: 'synced' }))).toBe(true);
    expect(ownsInWeCom(state({ owned: true, wecomId: 'abc', status: 'deleted' }))).toBe(false);
    expect(ownsInWeCom(state({ owned: true, status: 'synced' }))).toBe(false);
    expect(ownsInWeCom(state({ wecomId: 'abc', status: 'synced' }))).toBe(false);
    expect(ownsInWeCom(undefined)).toBe(false);
  });

  it('an unconfirmed user claim is present only under exactly its userid', () => {
    const members = indexWeComMembers([{ userid: 'Abc', department: 2 }]);
    expect(claimedUserPresent(state({ claim: { wecomId: 'Abc' } }), members)).toBe(true);
    expect(claimedUserPresent(state({ claim: { wecomId: 'abc' } }), members)).toBe(false);
    expect(claimedUserPresent(state({ claim: {} }), members)).toBe(false);
    expect(claimedUserPresent(state({}), members)).toBe(false);
  });

  it('an unconfirmed department claim is present only with its id under its parent, and not another’s copy', () => {
    const depts = new Map([[3, { parentid: 2 }]]);
    const dept = (claim: EntityState['claim']) => state({ kind: 'dept', id: '3', claim });
    const free = () => false;
    expect(claimedDeptPresent(dept({ wecomId: '3', payload: { name: 'x', parentid: 2 } }), depts, free)).toBe(true);
    expect(claimedDeptPresent(dept({ wecomId: '3', payload: { name: 'x', parentid: 1 } }), depts, free)).toBe(false);
    expect(claimedDeptPresent(dept({ wecomId: '5', payload: { name: 'x', parentid: 2 } }), depts, free)).toBe(false);
    expect(claimedDeptPresent(dept({ payload: { name: 'x', parentid: 2 } }), depts, free)).toBe(false); // WeCom was to assign the id
    // The store records WeCom's 3 as another DingTalk department's copy: the claim's create may never have succeeded.
    expect(claimedDeptPresent(dept({ wecomId: '3', payload: { name: 'x', parentid: 2 } }), depts, (w) => w === '3')).toBe(false);
  });
});
