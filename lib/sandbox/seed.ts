/**
 * The small organisation `npm start` shows in sandbox mode, and the sandbox-only settings that go
 * with it. These values open nothing real: they are shared by the simulators and the local
 * server only.
 */
import type { DingTalkSimulator } from './dingtalk-sim';

export const SANDBOX_ENV = {
  DINGTALK_APP_KEY: 'dingsandboxappkey',
  DINGTALK_APP_SECRET: 'sandbox-app-secret-not-real',
  DINGTALK_OWNER_KEY: 'dingsandboxappkey',
  DINGTALK_TOKEN: 'sandboxtoken',
  DINGTALK_AES_KEY: 'sandboxAesKey0123456789abcdefghijklmnopqrst',
  WECOM_CORP_ID: 'wwsandboxcorp',
  WECOM_CONTACT_SECRET: 'sandbox-contact-secret-not-real',
  SANDBOX_CORP_ID: 'dingsandboxcorp',
} as const;

export function seedSandboxOrg(sim: DingTalkSimulator): void {
  sim.seed({
    depts: [
      { dept_id: 2, name: '研发部', parent_id: 1, order: 1 },
      { dept_id: 3, name: '后端组', parent_id: 2, order: 1 },
      { dept_id: 4, name: '市场部', parent_id: 1, order: 2 },
    ],
    users: [
      {
        userid: 'zhangsan',
        name: '张三',
        mobile: '13800000001',
        state_code: '86',
        email: 'zhangsan@example.com',
        title: '后端工程师',
        dept_id_list: [3],
        dept_order_list: [{ dept_id: 3, order: '176543210987654321' }],
        manager_userid: 'lisi',
      },
      {
        userid: 'lisi',
        name: '李四',
        mobile: '13800000002',
        state_code: '86',
        title: '研发总监',
        dept_id_list: [2, 4],
        leader_in_dept: [
          { dept_id: 2, leader: true },
          { dept_id: 4, leader: false },
        ],
      },
      {
        userid: 'wangwu',
        name: '王五',
        org_email: 'wangwu@example.com',
        title: '市场经理',
        dept_id_list: [4],
      },
    ],
  });
}
