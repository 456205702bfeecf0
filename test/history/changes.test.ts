import { describe, expect, it } from 'vitest';
import { changedFields } from '../../lib/history/changed-fields';
import { historyResultOf } from '../../lib/history/history';
import { sideEffectOf } from '../../lib/history/side-effects';
import type { EntityState } from '../../lib/ports';

describe('changedFields', () => {
  it('names the fields whose values differ, added or removed, sorted, comparing arrays by value', () => {
    expect(changedFields({ name: 'a', department: [1, 2], mobile: 'x' }, { name: 'b', department: [1, 2], email: 'e' })).toEqual(['email', 'mobile', 'name']);
    expect(changedFields(undefined, { userid: 'u', name: 'n' })).toEqual(['name', 'userid']);
    expect(changedFields({ department: [1] }, { department: [1, 3] })).toEqual(['department']);
    expect(changedFields({ name: 'n' }, undefined)).toEqual([]);
  });
});

describe('historyResultOf', () => {
  it('reads adoption as an update and what the sync may not touch as skipped', () => {
    expect(historyResultOf('adopted')).toBe('updated');
    expect(historyResultOf('ignored')).toBe('skipped');
    expect(historyResultOf('out_of_scope')).toBe('skipped');
    expect(historyResultOf('failed')).toBe('failed');
  });
});

describe('sideEffectOf: what happened to an entity written on the way', () => {
  const state = (over: Partial<EntityState>): EntityState => ({ kind: 'dept', id: '3', owned: true, status: 'synced', updatedAt: 1, version: 1, ...over });
  const of = (before: EntityState | undefined, after: EntityState, completed = true) => sideEffectOf({ kind: 'dept', id: '3', before, after }, completed);

  it('created when nothing existed in WeCom before (no record, a claim, a deleted one)', () => {
    const synced = state({ wecomId: '3', payload: { name: 'n', parentid: 1 } });
    expect(of(undefined, synced)).toEqual({ result: 'created', changedFields: ['name', 'parentid'] });
    expect(of(state({ status: 'pending', owned: false }), synced)?.result).toBe('created');
    expect(of(state({ status: 'deleted', wecomId: '3' }), synced)?.result).toBe('created');
  });

  it('updated when the payload changed, nothing when only bookkeeping did', () => {
    const before = state({ wecomId: 'u', payload: { userid: 'u', name: 'n', mobile: 'm', department: [1] } });
    expect(of(before, { ...before, payload: { userid: 'u', name: 'n', department: [1] } })).toEqual({ result: 'updated', changedFields: ['mobile'] });
    expect(of(before, { ...before, blocking: ['3'] })).toBeUndefined();
  });

  it('disabled, deleted, skipped, and failures (a retry when the sync threw), each once', () => {
    const before = state({ wecomId: '3', payload: { userid: 'u', name: 'n', department: [1], enable: 1 } });
    expect(of(before, { ...before, status: 'disabled', payload: { userid: 'u', name: 'n', department: [1], enable: 0 } })).toEqual({
      result: 'disabled',
      changedFields: ['enable'],
    });
    expect(of(before, { ...before, status: 'deleted' })).toEqual({ result: 'deleted', changedFields: [] });
    expect(of(before, { ...before, status: 'ignored' })?.result).toBe('skipped');
    expect(of(before, { ...before, status: 'failed', lastErrcode: 60008 })).toEqual({ result: 'failed', changedFields: [], errcode: 60008 });
    expect(of(before, { ...before, status: 'failed' }, false)).toEqual({ result: 'retry', changedFields: [] });
    expect(of(before, { ...before, status: 'blocked', lastErrcode: 60005 })?.result).toBe('failed');
    const failed = { ...before, status: 'failed' as const, lastErrcode: 60008 };
    expect(of(failed, { ...failed, updatedAt: 2 })).toBeUndefined();
    expect(of(before, { ...before, status: 'pending' })).toBeUndefined();
  });
});
