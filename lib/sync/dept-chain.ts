/**
 * The worker's side of the scope judge (scope.ts): whether a DingTalk department is in scope,
 * judged on its ancestor chain.
 *
 * The chain is first walked on the parents the store remembers (`dingtalkParentId`), reading
 * DingTalk only for links it never recorded: that is what keeps an unchanged person at one
 * DingTalk read. A remembered parent can be stale (the department moved and its own event is
 * still on the queue), so only "in scope" is trusted from it; "out" (or a cycle) is judged again
 * on fresh DingTalk reads before a person is taken out of a department or a department is
 * deleted. A stale "in" is corrected by the department's own event.
 */
import type { PlatformError } from '../errors';
import type { DingTalkDirectory } from '../ports';
import { type DeptContext, readDept } from './dept-context';
import type { EntityStateBook } from './entity-state';
import { DINGTALK_ROOT_DEPT_ID } from './mapping';
import type { SyncScope } from './scope';

export type ChainVerdict = { kind: 'in' } | { kind: 'out' } | { kind: 'invisible'; error: PlatformError };

/** A link the store does not know: the stored walk stops there. */
const UNKNOWN = Symbol('unknown parent');

export class DeptChainJudge {
  constructor(
    private readonly deps: {
      scope: SyncScope;
      states: Pick<EntityStateBook, 'get'>;
      dingtalk: Pick<DingTalkDirectory, 'getDept'>;
    },
  ) {}

  async judge(ctx: DeptContext, deptId: number): Promise<ChainVerdict> {
    const remembered = await this.walk(ctx, deptId, true);
    return remembered.kind === 'out' ? this.walk(ctx, deptId, false) : remembered;
  }

  /** Up the chain until a root or an excluded department decides; `remembered`: links from the store where it has them. */
  private async walk(ctx: DeptContext, deptId: number, remembered: boolean): Promise<ChainVerdict> {
    const { scope } = this.deps;
    const chain = [deptId];
    for (let id = deptId; !scope.decidedAt(id) && id !== DINGTALK_ROOT_DEPT_ID; ) {
      let parent = remembered ? await this.knownParent(ctx, id) : UNKNOWN;
      if (parent === UNKNOWN) {
        const read = await readDept(ctx, this.deps.dingtalk, id);
        if ('gone' in read) return { kind: 'out' };
        if ('invisible' in read) return { kind: 'invisible', error: read.invisible };
        parent = read.dept.parent_id;
      }
      if (parent === undefined || chain.includes(parent)) break;
      chain.push(parent);
      id = parent;
    }
    return scope.includes(chain) ? { kind: 'in' } : { kind: 'out' };
  }

  /** The parent read in this operation, else the one the store remembers; undefined at the top. */
  private async knownParent(ctx: DeptContext, deptId: number): Promise<number | undefined | typeof UNKNOWN> {
    if (deptId === DINGTALK_ROOT_DEPT_ID) return undefined;
    const fresh = ctx.fresh.get(deptId);
    if (fresh) return fresh.parent_id;
    const state = await this.deps.states.get('dept', String(deptId));
    return state?.dingtalkParentId ?? UNKNOWN;
  }
}
