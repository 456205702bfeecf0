/**
 * The reconcile's read of DingTalk: every department in scope and every member of each, all
 * pages, held to DingTalk's per-API rate by the client's pacing (lib/rate-budget.ts). A read that
 * fails retryably is retried; a read that still fails fails the scan, because a plan made from a
 * partial read would take the people it missed for leavers.
 */
import { concurrencyLimit } from '../concurrency';
import type { SyncConfig } from '../config';
import { dingTalkProtocolError } from '../dingtalk/api';
import { PlatformError } from '../errors';
import type { DingTalkDept, DingTalkDirectory, DingTalkUser } from '../ports';
import { withRetries } from '../retry';
import { fromListing } from './field-provenance';
import { DINGTALK_ROOT_DEPT_ID } from './mapping';
import { SyncScope } from './scope';

export interface ScanDeps {
  dingtalk: DingTalkDirectory;
  config: Pick<SyncConfig, 'rootDeptIds' | 'excludeDeptIds'>;
  /** Parallel DingTalk reads. */
  readConcurrency?: number;
  /**
   * Waits before retrying a DingTalk read that failed retryably (network, 5xx, a throttle the
   * client could not wait out), one retry per entry. Default [1000, 3000]. A read that still fails fails the run: a plan
   * made from a partial read would take the people it missed for leavers.
   */
  readRetryDelaysMs?: readonly number[];
}

/** `v2/user/list` pages hold at most 100 people. */
const USER_PAGE = 100;
const USER_LIST_API = 'topapi/v2/user/list';

/**
 * Every department in scope (breadth-first from the roots, judged by the one scope judge,
 * scope.ts, as the worker judges it) and every member of each, all pages.
 * Listing a department's members starts as soon as the department is found, so the two APIs'
 * separate rate limits (20/s each) are used at the same time. `onProgress` counts departments
 * whose members are listed.
 */
export async function readDingTalkScope(
  deps: ScanDeps,
  onProgress?: (done: number, total: number) => void,
): Promise<{ depts: DingTalkDept[]; users: DingTalkUser[] }> {
  const { dingtalk } = deps;
  const retry = { delaysMs: deps.readRetryDelaysMs ?? [1000, 3000], retryable: (e: unknown) => e instanceof PlatformError && e.retryable };
  /** One read, retried when DingTalk says "later" rather than "no". */
  const read = <T>(fn: () => Promise<T>): Promise<T> => withRetries(retry, fn);
  const concurrency = deps.readConcurrency ?? 8;
  const treeSlots = concurrencyLimit(concurrency);
  const memberSlots = concurrencyLimit(concurrency);
  const scope = new SyncScope(deps.config);
  const depts = new Map<number, DingTalkDept>();
  const users = new Map<string, DingTalkUser>();
  const memberLists: Promise<void>[] = [];
  let listed = 0;

  const listMembers = (deptId: number) => {
    const listing = memberSlots(async () => {
      // Never stop at the first page: a department of 250 people is three pages. A cursor that
      // comes back would page for ever (until the Lambda's timeout, holding the reconcile lock).
      const asked = new Set<number>();
      for (let cursor: number | undefined = 0; cursor !== undefined; ) {
        if (asked.has(cursor)) throw dingTalkProtocolError(USER_LIST_API, `next_cursor ${cursor} of department ${deptId} was already followed`);
        asked.add(cursor);
        const page = await read(() => dingtalk.listUsers(deptId, cursor!, USER_PAGE));
        // A listing item is not a user/get record: fromListing marks what it cannot tell.
        for (const u of page.list) users.set(u.userid, mergeListings(users.get(u.userid), fromListing(u)));
        cursor = page.hasMore ? page.nextCursor : undefined;
      }
      onProgress?.(++listed, depts.size + 1);
    });
    // Observed now, judged below: a member read that fails while the tree walk is still running
    // (or after it failed) must not become an unhandled rejection, which would kill the process.
    listing.catch(() => undefined);
    memberLists.push(listing);
  };

  let frontier: number[] = [];
  for (const root of scope.startingRoots()) {
    if (root !== DINGTALK_ROOT_DEPT_ID) depts.set(root, await read(() => dingtalk.getDept(root)));
    frontier.push(root);
    listMembers(root);
  }
  while (frontier.length > 0) {
    const children = await Promise.all(frontier.map((id) => treeSlots(() => read(() => dingtalk.listSubDepts(id)))));
    frontier = [];
    for (const d of children.flat()) {
      if (!scope.includesChildOfIncluded(d.dept_id) || depts.has(d.dept_id)) continue;
      depts.set(d.dept_id, d);
      frontier.push(d.dept_id);
      listMembers(d.dept_id);
    }
  }
  await Promise.all(memberLists);
  return { depts: [...depts.values()].filter((d) => d.dept_id !== DINGTALK_ROOT_DEPT_ID), users: [...users.values()] };
}

/**
 * One person listed in several departments: each listing gives order and leadership for its own
 * department only, so the entries are combined into one record.
 */
function mergeListings(seen: DingTalkUser | undefined, listed: DingTalkUser): DingTalkUser {
  if (!seen) return listed;
  const union = <T extends { dept_id: number }>(a: T[] | undefined, b: T[] | undefined): T[] | undefined => {
    if (!a || !b) return a ?? b;
    const byDept = new Map(a.map((e) => [e.dept_id, e]));
    for (const e of b) if (!byDept.has(e.dept_id)) byDept.set(e.dept_id, e);
    return [...byDept.values()];
  };
  return { ...seen, dept_order_list: union(seen.dept_order_list, listed.dept_order_list), leader_in_dept: union(seen.leader_in_dept, listed.leader_in_dept) };
}
