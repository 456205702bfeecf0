/**
 * Which DingTalk departments the sync follows: the one judge of scope, used by the worker
 * (placing people, writing and removing departments), the reconcile's scan of DingTalk and,
 * through the scan's result, its plan. Pure: no I/O.
 *
 * A department is judged on its whole ancestor chain, never on its own id alone: narrowing the
 * roots, excluding a parent, or moving a department under an excluded or unrooted parent takes
 * every department below out of the scope too.
 */
import type { SyncConfig } from '../config';
import { DINGTALK_ROOT_DEPT_ID } from './mapping';

export type ScopeRules = Pick<SyncConfig, 'rootDeptIds' | 'excludeDeptIds'>;

/**
 * `chain` is a department followed by its ancestors, nearest first, as far up as known.
 * Walking up, the first configured root or excluded department decides: an excluded one
 * (including the department itself, or a root that is also excluded) puts it out of scope; a root
 * puts it in. So an excluded subtree inside a root is out, and a root listed inside an excluded
 * subtree is back in, because it is the nearer, more specific rule. A chain that reaches no root
 * is out of scope.
 */
export function deptInScope(chain: readonly number[], rules: ScopeRules): boolean {
  for (const id of chain) {
    if (rules.excludeDeptIds.includes(id)) return false;
    if (rules.rootDeptIds.includes(id)) return true;
  }
  return false;
}

/** The judge with the configuration bound, in the forms its users need. */
export class SyncScope {
  private readonly roots: ReadonlySet<number>;
  private readonly excluded: ReadonlySet<number>;

  constructor(private readonly rules: ScopeRules) {
    this.roots = new Set(rules.rootDeptIds);
    this.excluded = new Set(rules.excludeDeptIds);
  }

  includes(chain: readonly number[]): boolean {
    return deptInScope(chain, this.rules);
  }

  /** Whether walking further up the chain could change the verdict: false once a root or an excluded department is reached. */
  decidedAt(deptId: number): boolean {
    return this.roots.has(deptId) || this.excluded.has(deptId);
  }

  /**
   * Whether `deptId` is DingTalk's root in scope, which is WeCom's root (the company itself):
   * never written, and the place for its direct members. Excluded, or not a root, it is not a
   * place for anyone, for the worker and the plan alike.
   */
  mapsToWeComRoot(deptId: number): boolean {
    return deptId === DINGTALK_ROOT_DEPT_ID && this.includes([DINGTALK_ROOT_DEPT_ID]);
  }

  isRoot(deptId: number): boolean {
    return this.roots.has(deptId);
  }

  isExcluded(deptId: number): boolean {
    return this.excluded.has(deptId);
  }

  /** Where a top-down walk of DingTalk starts: the configured roots that are not excluded themselves, each once. */
  startingRoots(): number[] {
    return [...this.roots].filter((id) => !this.excluded.has(id));
  }

  /**
   * A top-down walk's step: a child found below a department in scope is in scope unless it is
   * excluded itself (`includes` on the child's chain, whose rest is known to be in).
   */
  includesChildOfIncluded(childId: number): boolean {
    return !this.excluded.has(childId);
  }
}
