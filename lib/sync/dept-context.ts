/**
 * What one message (or one reconcile operation) knows while it syncs departments: DingTalk
 * department reads already made, and which departments are being written or emptied further up
 * the call chain. Syncing one department can sync others on the way (its ancestors, the members
 * and children it must shed, the sibling whose name it needs), so this travels with the async call
 * chain instead of through every signature; concurrent operations each get their own.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isDeptGone, isOutOfScope } from '../dingtalk/errors';
import type { PlatformError } from '../errors';
import type { DingTalkDept, DingTalkDirectory } from '../ports';

/** A DingTalk department read: the department, gone from DingTalk, or outside the app's visible range (50004). */
export type DeptRead = { dept: DingTalkDept } | { gone: true } | { invisible: PlatformError };

export interface DeptContext {
  /** Reads made, so a department is read from DingTalk at most once per operation. */
  readonly reads: Map<number, Promise<DeptRead>>;
  /** Departments read from DingTalk in this operation (fresh parents for the scope judge). */
  readonly fresh: Map<number, DingTalkDept>;
  /** Departments being written further up this call chain: not re-entered. */
  readonly writing: Set<number>;
  /** Departments being emptied for deletion further up this call chain: not re-entered. */
  readonly emptying: Set<number>;
}

/**
 * The operations of one DeptSync, each with its own context. Another writer's calls made while
 * this one waits (another EntitySync, as in a race) never see this one's context or its reads.
 */
export class DeptOperations {
  private readonly current = new AsyncLocalStorage<DeptContext>();

  /** Runs `fn` in the operation's context, starting one when this is the operation's first call. */
  run<T>(fn: (ctx: DeptContext) => Promise<T>): Promise<T> {
    const ctx = this.current.getStore();
    if (ctx) return fn(ctx);
    const fresh: DeptContext = { reads: new Map(), fresh: new Map(), writing: new Set(), emptying: new Set() };
    return this.current.run(fresh, () => fn(fresh));
  }
}

/** A department the caller already read (the reconcile reads whole levels at once). */
export function rememberDept(ctx: DeptContext, dept: DingTalkDept): void {
  ctx.fresh.set(dept.dept_id, dept);
  if (!ctx.reads.has(dept.dept_id)) ctx.reads.set(dept.dept_id, Promise.resolve({ dept }));
}

/** Reads a department from DingTalk once per operation; "gone" and "invisible" are answers, other failures are thrown. */
export function readDept(ctx: DeptContext, dingtalk: Pick<DingTalkDirectory, 'getDept'>, deptId: number): Promise<DeptRead> {
  let read = ctx.reads.get(deptId);
  if (!read) {
    read = dingtalk.getDept(deptId).then(
      (dept): DeptRead => {
        ctx.fresh.set(deptId, dept);
        return { dept };
      },
      (e: unknown): DeptRead => {
        if (isDeptGone(e)) return { gone: true };
        if (isOutOfScope(e)) return { invisible: e };
        throw e;
      },
    );
    ctx.reads.set(deptId, read);
  }
  return read;
}
