/**
 * People placed without one of their departments, because WeCom refused to create it (a name held
 * by a WeCom-only sibling, more than 15 levels, …): each such department remembers who waits for
 * it (`waitingUsers`), and once it exists they are synced again, so they are completed from the
 * event flow and not only by the next reconcile.
 */
import type { Logger } from '../log';
import type { EntityStateBook } from './entity-state';
import { ConcurrentWriteError } from './entity-state';
import type { SyncOutcome } from './outcome';

const ADD_ATTEMPTS = 3;

export interface WaitingDeps {
  states: EntityStateBook;
  /** Syncs a user again from DingTalk. */
  syncUser(userid: string): Promise<SyncOutcome>;
  logger?: Logger;
}

export class WaitingUsers {
  constructor(private readonly deps: WaitingDeps) {}

  /** `userid` was placed without department `deptId`, which could not be written. */
  async add(deptId: number, userid: string): Promise<void> {
    const { states } = this.deps;
    // People placed in parallel (the reconcile writes several at once) add themselves in turn.
    for (let attempt = 0; attempt < ADD_ATTEMPTS; attempt++) {
      const state = await states.get('dept', String(deptId));
      if (!state || state.waitingUsers?.includes(userid)) return;
      try {
        await states.save(state, { ...state, waitingUsers: [...(state.waitingUsers ?? []), userid] });
        return;
      } catch (e) {
        if (!(e instanceof ConcurrentWriteError)) throw e;
      }
    }
    // Still contended: the reconcile completes this person anyway, as it places people in every
    // department that exists.
    this.deps.logger?.warn('could not record a user as waiting for a department', { deptId, userid });
  }

  /**
   * The department now exists in WeCom: sync the people who waited for it. A failure of one of
   * them (retryable) is thrown, and the list is kept for the retry.
   */
  async release(deptId: number): Promise<void> {
    const { states } = this.deps;
    const state = await states.get('dept', String(deptId));
    const waiting = state?.waitingUsers ?? [];
    if (!state || waiting.length === 0 || state.status !== 'synced') return;
    for (const userid of waiting) {
      const outcome = await this.deps.syncUser(userid);
      this.deps.logger?.info('user waiting for a department synced again', { deptId, userid, result: outcome.result });
    }
    const after = await states.get('dept', String(deptId));
    if (!after) return;
    const left = (after.waitingUsers ?? []).filter((u) => !waiting.includes(u));
    await states.save(after, { ...after, waitingUsers: left.length ? left : undefined }).catch((e: unknown) => {
      if (!(e instanceof ConcurrentWriteError)) throw e;
    });
  }
}
