/**
 * What WeCom holds apart from the sync, for the convergence property
 * (lib/sandbox/convergence/wecom-only.ts): what is seeded, and which calls touch it.
 */
import { describe, expect, it } from 'vitest';
import { seedWeComOnly, touchOf } from '../../../lib/sandbox/convergence/wecom-only';
import { WeComSimulator } from '../../../lib/sandbox/wecom-sim';

const wc = new WeComSimulator();
const only = seedWeComOnly(wc, { takenLaterId: 1010 });
const call = (api: string, body: unknown, query: Record<string, string> = {}) => ({ api, query: new URLSearchParams(query), body: JSON.stringify(body) });

describe('seedWeComOnly', () => {
  it('makes three departments (one with an id DingTalk hands out later) and three members, as WeCom stores them', () => {
    expect(only.depts.map((d) => d.id)).toEqual([2, 3, 1010]);
    expect(only.depts.every((d) => d.parentid !== 1 || d.id === 2)).toBe(true);
    expect(only.users.map((u) => u.userid)).toEqual(['wconly-boss', 'wconly-clerk', 'wconly-temp']);
    expect(wc.getUser('wconly-temp')).toEqual(only.users[2]);
  });
});

describe('touchOf', () => {
  it('names changes to its departments and members, departments made under them and members placed in them', () => {
    expect(touchOf(call('department/update', { id: 2, name: 'x' }), only)).toBeDefined();
    expect(touchOf(call('department/delete', undefined, { id: '1010' }), only)).toBeDefined();
    expect(touchOf(call('department/create', { name: 'x', parentid: 3, id: 1004 }), only)).toBeDefined();
    expect(touchOf(call('user/update', { userid: 'WCONLY-BOSS', enable: 0 }), only)).toBeDefined();
    expect(touchOf(call('user/delete', undefined, { userid: 'wconly-clerk' }), only)).toBeDefined();
    expect(touchOf(call('user/batchdelete', { useridlist: ['p001', 'wconly-temp'] }), only)).toBeDefined();
    expect(touchOf(call('user/create', { userid: 'p001', department: [1, 2] }), only)).toBeDefined();
  });

  it('lets the sync’s own calls pass, reads included', () => {
    expect(touchOf(call('department/create', { name: 'x', parentid: 1, id: 1010 }), only)).toBeUndefined(); // refused by WeCom: the id is taken
    expect(touchOf(call('department/update', { id: 1004, name: 'x', parentid: 1 }), only)).toBeUndefined();
    expect(touchOf(call('user/update', { userid: 'p001', department: [1004] }), only)).toBeUndefined();
    expect(touchOf(call('user/list_id', { limit: 10000 }), only)).toBeUndefined();
    expect(touchOf(call('department/simplelist', undefined, { id: '2' }), only)).toBeUndefined();
  });
});
