/**
 * The convergence oracle (lib/sandbox/convergence/oracle.ts) on hand-made directories: silent on
 * a WeCom that matches DingTalk, and naming each way one can differ.
 */
import { describe, expect, it } from 'vitest';
import type { DingTalkUser } from '../../../lib/ports';
import { divergences, type OracleInput } from '../../../lib/sandbox/convergence/oracle';
import type { WeComSimUser } from '../../../lib/sandbox/wecom-sim';

const dingUser = (over: Partial<DingTalkUser> = {}): DingTalkUser => ({
  userid: 'p001',
  name: '张伟',
  mobile: '13900000001',
  state_code: '86',
  title: '工程师',
  dept_id_list: [1000, 1],
  leader_in_dept: [
    { dept_id: 1000, leader: true },
    { dept_id: 1, leader: false },
  ],
  ...over,
});
const member = (over: Partial<WeComSimUser> = {}): WeComSimUser => ({
  userid: 'p001',
  name: '张伟',
  department: [1, 2000],
  order: [0, 0],
  is_leader_in_dept: [0, 1],
  main_department: 1,
  mobile: '+86 13900000001',
  position: '工程师',
  direct_leader: [],
  enable: 1,
  ...over,
});

/** DingTalk 1000 "研发" under the root is WeCom 2000; WeCom also has its own 3 and member "own". */
function converged(): OracleInput {
  const own = member({ userid: 'own', department: [3], is_leader_in_dept: [0], order: [0], main_department: 3, mobile: '+86 13700000000' });
  const ownDept = { id: 3, name: '行政', parentid: 1, order: 0 };
  return {
    dingtalk: {
      depts: [
        { dept_id: 1, name: 'Root' },
        { dept_id: 1000, name: '研发', parent_id: 1 },
      ],
      users: [dingUser()],
    },
    formers: [],
    wecom: { depts: [{ id: 1, name: 'Company', parentid: 0, order: 0 }, { id: 2000, name: '研发', parentid: 1, order: 0 }, ownDept], users: [member(), own] },
    wecomOnly: { depts: [ownDept], users: [own] },
    deptIds: new Map([[1000, 2000]]),
  };
}

const what = (input: OracleInput) => divergences(input).map((d) => `${d.entity}: ${d.what}`);

describe('the convergence oracle', () => {
  it('finds nothing when WeCom matches DingTalk', () => {
    expect(divergences(converged())).toEqual([]);
  });

  it('names departments missing, misnamed, misplaced, shared, or left over', () => {
    const c = converged();
    expect(what({ ...c, deptIds: new Map() })).toEqual(['dept 1000: exists in WeCom', 'user p001: departments (* = leader)', 'WeCom dept 2000: exists']);
    const renamed = c.wecom.depts.map((d) => (d.id === 2000 ? { ...d, name: '研发部', parentid: 3 } : d));
    expect(what({ ...c, wecom: { ...c.wecom, depts: renamed } })).toEqual(['dept 1000: name', 'dept 1000: parent']);
    const twin = { dept_id: 1001, name: '研发', parent_id: 1 };
    expect(what({ ...c, dingtalk: { ...c.dingtalk, depts: [...c.dingtalk.depts, twin] }, deptIds: new Map([...c.deptIds, [1001, 2000]]) })).toEqual([
      'dept 1001: has its own WeCom department',
    ]);
  });

  it('names each field of a person that differs, and a person missing', () => {
    const c = converged();
    const changed = member({ enable: 0, name: '王芳', position: '', mobile: '+86 13900000009', email: 'x@example.com', is_leader_in_dept: [0, 0] });
    expect(what({ ...c, wecom: { ...c.wecom, users: [changed, c.wecom.users[1]!] } })).toEqual([
      'user p001: enable',
      'user p001: name',
      'user p001: position',
      'user p001: mobile',
      'user p001: email',
      'user p001: departments (* = leader)',
    ]);
    expect(what({ ...c, wecom: { ...c.wecom, users: [c.wecom.users[1]!] } })).toEqual(['user p001: exists in WeCom']);
  });

  it('expects the DingTalk manager as direct leader only while that manager is in DingTalk', () => {
    const c = converged();
    const boss = dingUser({ userid: 'p002', dept_id_list: [1], leader_in_dept: [] });
    const bossMember = member({ userid: 'p002', department: [1], is_leader_in_dept: [0], order: [0] });
    const withBoss: OracleInput = {
      ...c,
      dingtalk: { ...c.dingtalk, users: [dingUser({ manager_userid: 'p002' }), boss] },
      wecom: { ...c.wecom, users: [...c.wecom.users, bossMember] },
    };
    expect(what(withBoss)).toEqual(['user p001: direct_leader']);
    expect(divergences(withBoss)[0]).toMatchObject({ expected: ['p002'], actual: [] });
    // The manager left: no one should report to them any more.
    const left: OracleInput = { ...withBoss, dingtalk: { ...withBoss.dingtalk, users: [dingUser({ manager_userid: 'p002' })] }, formers: ['p002'] };
    const reporting = withBoss.wecom.users.map((u) => (u.userid === 'p001' ? { ...u, direct_leader: ['p002'] } : u));
    expect(what({ ...left, wecom: { ...left.wecom, users: reporting } })).toEqual(['user p001: direct_leader', 'user p002: left: disabled at the root']);
  });

  it('accepts a leaver absent or disabled at the root, and nothing else', () => {
    const c = converged();
    const leaver = { ...c, dingtalk: { ...c.dingtalk, users: [] }, formers: ['p001'] };
    expect(what(leaver)).toEqual(['user p001: left: disabled at the root']);
    const disabled = member({ enable: 0, department: [1], is_leader_in_dept: [0], order: [0] });
    expect(what({ ...leaver, wecom: { ...leaver.wecom, users: [disabled, c.wecom.users[1]!] } })).toEqual([]);
    expect(what({ ...leaver, wecom: { ...leaver.wecom, users: [c.wecom.users[1]!] } })).toEqual([]);
  });

  it('names what WeCom holds apart from the sync when it changed, and members never in DingTalk', () => {
    const c = converged();
    const moved = c.wecom.users.map((u) => (u.userid === 'own' ? { ...u, enable: 0 as const } : u));
    const stranger = member({ userid: 'stranger' });
    expect(what({ ...c, wecom: { depts: c.wecom.depts.filter((d) => d.id !== 3), users: [...moved, stranger] } })).toEqual([
      'WeCom-only dept 3: untouched',
      'WeCom-only user own: untouched',
      'WeCom user stranger: exists',
    ]);
  });
});
