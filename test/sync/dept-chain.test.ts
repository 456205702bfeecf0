/**
 * The worker's scope judge: the chain walked on the parents the store remembers costs no DingTalk
 * read when it says "in"; anything else is judged again on fresh reads.
 */
import { describe, expect, it } from 'vitest';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { PlatformError } from '../../lib/errors';
import type { DingTalkDept, EntityState } from '../../lib/ports';
import { DeptChainJudge } from '../../lib/sync/dept-chain';
import { DeptOperations } from '../../lib/sync/dept-context';

const operations = new DeptOperations();
const inDeptContext = operations.run.bind(operations);

import { SyncScope } from '../../lib/sync/scope';

/** DingTalk as it is now (`parents`), the store as it remembers it (`stored`). */
function judgeOf(opts: {
  roots: number[];
  exclude?: number[];
  parents: Record<number, number | undefined>;
  stored?: Record<number, number>;
  invisible?: number[];
}) {
  const reads: number[] = [];
  const dingtalk = {
    getDept: async (id: number): Promise<DingTalkDept> => {
      reads.push(id);
      if (opts.invisible?.includes(id))
        throw new PlatformError('dingtalk', 'topapi/v2/department/get', DINGTALK_ERR.deptOutOfScope, 'out of scope', 'configuration');
      if (!(id in opts.parents)) throw new PlatformError('dingtalk', 'topapi/v2/department/get', DINGTALK_ERR.deptNotFound, 'not found', 'permanent');
      return { dept_id: id, name: `d${id}`, parent_id: opts.parents[id] };
    },
  };
  const states = {
    get: async (_kind: string, id: string): Promise<EntityState | undefined> => {
      const parent = opts.stored?.[Number(id)];
      return parent === undefined ? undefined : { kind: 'dept', id, owned: true, status: 'synced', updatedAt: 0, version: 1, dingtalkParentId: parent };
    },
  };
  const judge = new DeptChainJudge({ scope: new SyncScope({ rootDeptIds: opts.roots, excludeDeptIds: opts.exclude ?? [] }), states, dingtalk });
  return { reads, judge: (id: number) => inDeptContext((ctx) => judge.judge(ctx, id)) };
}

describe('DeptChainJudge', () => {
  const tree = { 1: undefined, 2: 1, 3: 2, 4: 1 };

  it('trusts a chain the store knows to be in scope, without reading DingTalk', async () => {
    const { judge, reads } = judgeOf({ roots: [1], parents: tree, stored: { 2: 1, 3: 2 } });
    expect(await judge(3)).toEqual({ kind: 'in' });
    expect(reads).toEqual([]);
  });

  it('reads only the links the store never recorded (a new department under known ones)', async () => {
    const { judge, reads } = judgeOf({ roots: [1], parents: { ...tree, 5: 3 }, stored: { 2: 1, 3: 2 } });
    expect(await judge(5)).toEqual({ kind: 'in' });
    expect(reads).toEqual([5]);
  });

  it('takes a department out when the roots narrowed, after confirming on fresh reads', async () => {
    const { judge, reads } = judgeOf({ roots: [2], parents: tree, stored: { 4: 1 } });
    expect(await judge(4)).toEqual({ kind: 'out' });
    expect(reads).toEqual([4]); // DingTalk's root has no parent to read
  });

  it('takes the whole subtree of an excluded parent out', async () => {
    const { judge } = judgeOf({ roots: [1], exclude: [2], parents: tree, stored: { 2: 1, 3: 2 } });
    expect(await judge(3)).toEqual({ kind: 'out' });
  });

  it('reads DingTalk again when a remembered link is stale: a cycle, or a department the store never linked', async () => {
    // 3 moved to the root and 2 under 3; the store still has 3 under 2.
    const { judge, reads } = judgeOf({ roots: [1], parents: { 1: undefined, 2: 3, 3: 1 }, stored: { 3: 2, 2: 3 } });
    expect(await judge(2)).toEqual({ kind: 'in' });
    expect(reads).toEqual([2, 3]);
    expect(await judgeOf({ roots: [1], parents: tree }).judge(3)).toEqual({ kind: 'in' });
  });

  it('lets a stale "in" stand until the department’s own event, which reads it fresh', async () => {
    // 3 moved under 4, outside the root 2, but its event has not been handled yet.
    const { judge, reads } = judgeOf({ roots: [2], parents: { 1: undefined, 2: 1, 3: 4, 4: 1 }, stored: { 3: 2 } });
    expect(await judge(3)).toEqual({ kind: 'in' });
    expect(reads).toEqual([]);
  });

  it('says "out" for a department gone from DingTalk, and "invisible" (not out) for one the app may not read', async () => {
    expect(await judgeOf({ roots: [1], parents: tree }).judge(9)).toEqual({ kind: 'out' });
    const invisible = await judgeOf({ roots: [1], parents: { ...tree, 6: 1 }, invisible: [6] }).judge(6);
    expect(invisible).toMatchObject({ kind: 'invisible', error: { errcode: DINGTALK_ERR.deptOutOfScope } });
  });

  it('reads a department at most once per operation', async () => {
    const { judge, reads } = judgeOf({ roots: [2], parents: tree });
    await inDeptContext(async () => {
      await judge(4);
      await judge(4);
    });
    expect(reads).toEqual([4]);
  });
});
