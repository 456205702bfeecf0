/**
 * `npm run figures`: DingTalk reads and WeCom writes per event type, counted by the simulators
 * for one event each, through the whole pipeline (push → callback → queue → worker).
 */
import { dingtalkReads, type SandboxPipeline, startSandboxPipeline, wecomWrites } from '../lib/sandbox/pipeline';

type Step = { name: string; setup?: (p: SandboxPipeline) => Promise<void>; act: (p: SandboxPipeline) => unknown };

const addAll = async (p: SandboxPipeline) => {
  p.dt.pushEvent('user_add_org', { userIds: ['lisi', 'wangwu', 'zhangsan'] });
  await p.settle();
};

const steps: Step[] = [
  { name: 'user_add_org: new user, 2 missing departments', act: (p) => p.dt.pushEvent('user_add_org', { userIds: ['zhangsan'] }) },
  {
    name: 'user_add_org: new user, departments synced',
    setup: async (p) => {
      p.dt.pushEvent('user_add_org', { userIds: ['lisi'] });
      await p.settle();
    },
    act: (p) => p.dt.addUser({ userid: 'zhaoliu', name: '赵六', mobile: '13800000006', dept_id_list: [2] }),
  },
  { name: 'user_modify_org: title changed', setup: addAll, act: (p) => p.dt.updateUser('zhangsan', { title: '架构师' }) },
  { name: 'user_modify_org: nothing changed', setup: addAll, act: (p) => p.dt.pushEvent('user_modify_org', { userIds: ['zhangsan'] }) },
  { name: 'user_modify_org: moved to another department', setup: addAll, act: (p) => p.dt.updateUser('zhangsan', { dept_id_list: [4], dept_order_list: [] }) },
  { name: 'user_active_org / org_admin_*: unchanged', setup: addAll, act: (p) => p.dt.pushEvent('org_admin_add', { userIds: ['zhangsan'] }) },
  { name: 'user_leave_org (disable)', setup: addAll, act: (p) => p.dt.removeUser('zhangsan') },
  { name: 'org_dept_create', setup: addAll, act: (p) => p.dt.addDept({ name: '新部门', parent_id: 2 }) },
  { name: 'org_dept_modify: renamed', setup: addAll, act: (p) => p.dt.updateDept(3, { name: '平台组' }) },
  { name: 'org_dept_modify: moved', setup: addAll, act: (p) => p.dt.updateDept(3, { parent_id: 4 }) },
  { name: 'org_dept_modify: nothing changed', setup: addAll, act: (p) => p.dt.pushEvent('org_dept_modify', { deptIds: [3] }) },
  {
    name: 'org_dept_remove (empty department)',
    setup: async (p) => {
      await addAll(p);
      p.dt.addDept({ dept_id: 9, name: '空部门', parent_id: 1 });
      await p.settle();
    },
    act: (p) => p.dt.removeDept(9),
  },
];

const detail = (calls: Record<string, number>, keep: (api: string) => boolean) =>
  Object.entries(calls)
    .filter(([api, n]) => n > 0 && keep(api))
    .map(([api, n]) => `${api}×${n}`)
    .join(' ') || '-';

console.log('event'.padEnd(48), 'DingTalk reads'.padEnd(16), 'WeCom writes'.padEnd(14), 'calls');
for (const step of steps) {
  const p = await startSandboxPipeline();
  try {
    await step.setup?.(p);
    p.dt.resetCalls();
    p.wc.resetCalls();
    await step.act(p);
    await p.settle();
    const reads = dingtalkReads(p.dt);
    const writes = wecomWrites(p.wc);
    console.log(
      step.name.padEnd(48),
      String(reads).padEnd(16),
      String(writes).padEnd(14),
      `${detail(p.dt.calls, (a) => a !== 'gettoken')} | ${detail(p.wc.calls, (a) => a !== 'gettoken')}`,
    );
  } finally {
    await p.close();
  }
}
