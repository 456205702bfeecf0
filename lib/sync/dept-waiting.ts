/**
 * What waits for a department to exist in WeCom, and is synced again once it does:
 *
 * - people placed without it because WeCom refused to create it (a name held by a WeCom-only
 *   sibling, more than 15 levels, …);
 * - the members and child departments it shed when it left the scope (they were disabled or
 *   deleted with it). DingTalk sends no event for them when it comes back, so without this they
 *   would stay out until the next reconcile.
 *
 * The department remembers them (`waitingUsers`, `waitingDepts`), so they are completed from the
 * event flow and not only by the next reconcile.
 */
import type { Logger } from '../log';
import type { EntityState } from '../ports';
import type { EntityStateBook } from './entity-state';
import { ConcurrentWriteError } from './entity-state';
import type { SyncOutcome } from './outcome';

const ADD_ATTEMPTS = 3;

export interface WaitingDeps {
  states: EntityStateBook;
  /** Syncs a user again from DingTalk. */
  syncUser(userid: string): Promise<SyncOutcome>;
  /** Syncs a department again from DingTalk. */
  syncDept(deptId: number): Promise<SyncOutcome>;
  logger?: Logger;
}

/** Who waits: userids, and DingTalk department ids as decimal strings. */
export interface Waiting {
  users?: readonly string[];
  depts?: readonly string[];
}

export class WaitingUsers {
  constructor(private readonly deps: WaitingDeps) {}

  /** `userid` was placed without department `deptId`, which could not be written. */
  add(deptId: number, userid: string): Promise<void> {
    return this.remember(deptId, { users: [userid] });
  }

  /** Adds to what waits for department `deptId`. */
  private async remember(deptId: number, waiting: Waiting): Promise<void> {
    const { states } = this.deps;
    // People placed in parallel (the reconcile writes several at once) add themselves in turn.
    for (let attempt = 0; attempt < ADD_ATTEMPTS; attempt++) {
      const state = await states.get('dept', String(deptId));
      if (!state) return;
      const next = withWaiting(state, waiting);
      if (next === state) return;
      try {
        await states.save(state, next);
        return;
      } catch (e) {
        if (!(e instanceof ConcurrentWriteError)) throw e;
      }
    }
    // Still contended: the reconcile completes them anyway, as it places people in every
    // department that exists.
    this.deps.logger?.warn('could not record what waits for a department', { deptId, ...waiting });
  }

  /** Whether anything waits for this department. */
  static anyWaiting(state: EntityState | undefined): boolean {
    return !!(state?.waitingUsers?.length || state?.waitingDepts?.length);
  }

  /**
   * The department now exists in WeCom: sync what waited for it, its people, then its child
   * departments (which release their own). A failure of one of them (retryable) is thrown, and
   * the lists are kept for the retry.
   */
  async release(deptId: number): Promise<void> {
    const { states } = this.deps;
    const state = await states.get('dept', String(deptId));
    if (!state || !WaitingUsers.anyWaiting(state) || state.status !== 'synced') return;
    const users = state.waitingUsers ?? [];
    const depts = state.waitingDepts ?? [];
    for (const userid of users) {
      const outcome = await this.deps.syncUser(userid);
      this.deps.logger?.info('user waiting for a department synced again', { deptId, userid, result: outcome.result });
    }
    for (const id of depts) {
      const outcome = await this.deps.syncDept(Number(id));
      this.deps.logger?.info('department waiting for its parent synced again', { deptId, child: id, result: outcome.result });
    }
    const after = await states.get('dept', String(deptId));
    if (!after) return;
    const leftUsers = (after.waitingUsers ?? []).filter((u) => !users.includes(u));
    const leftDepts = (after.waitingDepts ?? []).filter((d) => !depts.includes(d));
    await states.save(after, { ...after, waitingUsers: orNone(leftUsers), waitingDepts: orNone(leftDepts) }).catch((e: unknown) => {
      if (!(e instanceof ConcurrentWriteError)) throw e;
    });
  }
}

/** The department's record with `waiting` added to what already waits; the record itself when nothing is new. */
export function withWaiting(state: EntityState, waiting: Waiting): EntityState {
  const users = union(state.waitingUsers, waiting.users);
  const depts = union(state.waitingDepts, waiting.depts);
  if (users.length === (state.waitingUsers?.length ?? 0) && depts.length === (state.waitingDepts?.length ?? 0)) return state;
  return { ...state, waitingUsers: orNone(users), waitingDepts: orNone(depts) };
}

function union(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] {
  return [...new Set([...(a ?? []), ...(b ?? [])])];
}

function orNone(list: string[]): string[] | undefined {
  return list.length ? list : undefined;
}
