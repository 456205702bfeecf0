/**
 * What happened to an entity written while another one was synced (a department created on a
 * user's way, a leaver that gave up its mobile, a member's department list emptied before its
 * department's deletion), read from how its record changed. Pure: no I/O.
 */
import type { EntityState } from '../ports';
import { changedFields } from './changed-fields';
import type { HistoryResult } from './history';
import type { ObservedWrite } from './observed-writes';

/** The result and changed fields of one observed entity, or undefined when nothing happened in WeCom (bookkeeping only). */
export function sideEffectOf(write: ObservedWrite, completed: boolean): { result: HistoryResult; changedFields: string[]; errcode?: number } | undefined {
  const { before, after } = write;
  const fields = changedFields(before?.payload, after.payload);
  const was = before?.status;
  switch (after.status) {
    case 'synced':
      if (!existedInWeCom(before)) return { result: 'created', changedFields: fields };
      return fields.length > 0 || was === 'disabled' ? { result: 'updated', changedFields: fields } : undefined;
    case 'disabled':
      return was === 'disabled'
        ? fields.length > 0
          ? { result: 'updated', changedFields: fields }
          : undefined
        : { result: 'disabled', changedFields: fields };
    case 'deleted':
      return was === 'deleted' ? undefined : { result: 'deleted', changedFields: [] };
    case 'failed':
    case 'blocked':
      if (was === after.status && before?.lastErrcode === after.lastErrcode) return undefined;
      // A failure left behind by a sync that threw is retried with its message, not recorded for good.
      return { result: completed ? 'failed' : 'retry', changedFields: [], ...(after.lastErrcode !== undefined ? { errcode: after.lastErrcode } : {}) };
    case 'ignored':
      return was === 'ignored' ? undefined : { result: 'skipped', changedFields: [] };
    case 'pending':
      return undefined;
  }
}

/** The record says the sync had a WeCom object for it. */
function existedInWeCom(state: EntityState | undefined): boolean {
  return state?.owned === true && state.wecomId !== undefined && state.status !== 'pending' && state.status !== 'deleted';
}
