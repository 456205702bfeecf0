/**
 * The convergence property's organisation changes (lib/sandbox/convergence/org-changes.ts),
 * applied to a DingTalk simulator that is not listening (HR actions only change its model): any
 * change list is valid, DingTalk's rules hold, and each change returns the events DingTalk would
 * push for it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { type Change, OrgChanger } from '../../../lib/sandbox/convergence/org-changes';
import { DingTalkSimulator } from '../../../lib/sandbox/dingtalk-sim';

let dt: DingTalkSimulator;
let org: OrgChanger;
beforeEach(() => {
  dt = new DingTalkSimulator();
  org = new OrgChanger(dt);
  org.seed();
});

const names = (parent: number) =>
  dt
    .listDepts()
    .filter((d) => d.parent_id === parent)
    .map((d) => d.name);

describe('the starting organisation', () => {
  it('has 4 departments on 2 levels and 8 people, 3 of them reporting to someone', () => {
    expect(dt.listDepts().map((d) => d.dept_id)).toEqual([1, 1000, 1001, 1002, 1003]);
    expect(dt.listUsers().map((u) => u.userid)).toEqual(['p001', 'p002', 'p003', 'p004', 'p005', 'p006', 'p007', 'p008']);
    expect(dt.listUsers().filter((u) => u.manager_userid)).toHaveLength(3);
  });
});

describe('departments', () => {
  it('are added under any department with a name no sibling has, and refused once every name is taken', () => {
    const added = org.apply({ op: 'addDept', parent: 0, name: 0 });
    expect(added?.events).toEqual([{ eventType: 'org_dept_create', deptIds: [1004] }]);
    expect(dt.getDept(1004)).toMatchObject({ parent_id: 1, name: '销售' }); // 研发 and 市场 are taken under the root
    for (let i = 0; i < 5; i++) org.apply({ op: 'addDept', parent: 0, name: 0 });
    expect(new Set(names(1)).size).toBe(8);
    expect(org.apply({ op: 'addDept', parent: 0, name: 0 })).toBeUndefined();
  });

  it('are renamed and moved only where no sibling has the name, never under themselves', () => {
    // 1002 "QA" asked to take its sibling 1003's "Ops": the next free name is its own, so nothing happens.
    expect(org.apply({ op: 'renameDept', dept: 2, name: 5 })).toBeUndefined();
    expect(dt.getDept(1002)?.name).toBe('QA');
    expect(org.apply({ op: 'renameDept', dept: 2, name: 1 })?.events).toEqual([{ eventType: 'org_dept_modify', deptIds: [1002] }]);
    expect(dt.getDept(1002)?.name).toBe('市场'); // taken under the root, free under 1000
    expect(org.apply({ op: 'moveDept', dept: 0, parent: 0 })).toBeUndefined(); // 1000 is under the root already
    expect(org.apply({ op: 'moveDept', dept: 3, parent: 2 })?.events).toEqual([{ eventType: 'org_dept_modify', deptIds: [1003] }]); // 1003 under 1001
    expect(dt.getDept(1003)?.parent_id).toBe(1001);
    for (let parent = 0; parent < 20; parent++) {
      org.apply({ op: 'moveDept', dept: 0, parent });
      expect(dt.getDept(1000)?.parent_id).not.toBe(1002); // never under its own child
    }
  });

  it('are deleted with what lies below them once their members have moved out, one event each', () => {
    const removed = org.apply({ op: 'removeDept', dept: 0, to: 1 }); // 1000 with 1002 and 1003; members go to 1001
    expect(removed?.events).toEqual([
      { eventType: 'user_modify_org', userIds: ['p001'] },
      { eventType: 'user_modify_org', userIds: ['p002'] },
      { eventType: 'user_modify_org', userIds: ['p004'] },
      { eventType: 'user_modify_org', userIds: ['p005'] },
      { eventType: 'user_modify_org', userIds: ['p006'] },
      { eventType: 'org_dept_remove', deptIds: [1000, 1002, 1003] },
    ]);
    expect(dt.listDepts().map((d) => d.dept_id)).toEqual([1, 1001]);
    expect(dt.getUser('p004')?.dept_id_list).toEqual([1001]);
  });
});

describe('people', () => {
  it('join, change and move, each with one event; references wrap around what exists', () => {
    const joined = org.apply({ op: 'addPerson', depts: [1, 1], leader: true, manager: 8, reuseMobile: null });
    expect(joined?.events).toEqual([{ eventType: 'user_add_org', userIds: ['p009'] }]);
    expect(dt.getUser('p009')).toMatchObject({ dept_id_list: [1000], manager_userid: 'p001', leader_in_dept: [{ dept_id: 1000, leader: true }] });
    org.apply({ op: 'editPerson', person: 8, rename: true, title: null, newMobile: true, manager: null });
    const edited = dt.getUser('p009')!;
    expect(edited.name).toMatch(/#/);
    expect(edited.title).toBeUndefined();
    expect(edited.manager_userid).toBeUndefined();
    org.apply({ op: 'movePerson', person: 8, depts: [2, 0], leader: false });
    expect(dt.getUser('p009')?.dept_id_list).toEqual([1001, 1]);
  });

  it('leave, and come back under the same userid with their mobile, or a new one if someone holds it now', () => {
    const mobile = dt.getUser('p001')!.mobile;
    expect(org.apply({ op: 'leave', person: 0 })?.events).toEqual([{ eventType: 'user_leave_org', userIds: ['p001'] }]);
    expect(org.formerIds()).toEqual(['p001']);
    const hired = org.apply({ op: 'addPerson', depts: [0], leader: false, manager: null, reuseMobile: 0 });
    expect(hired?.text).toMatch(/a leaver's/);
    expect(dt.getUser('p009')?.mobile).toBe(mobile);
    expect(org.apply({ op: 'rejoin', former: 0, depts: [2] })?.events).toEqual([{ eventType: 'user_add_org', userIds: ['p001'] }]);
    expect(dt.getUser('p001')?.mobile).not.toBe(mobile);
    expect(org.formerIds()).toEqual([]);
    expect(org.apply({ op: 'rejoin', former: 0, depts: [0] })).toBeUndefined();
  });

  it('keep mobiles unique among current staff whatever the changes', () => {
    const changes: Change[] = [];
    for (let i = 0; i < 60; i++) {
      changes.push({ op: 'leave', person: i * 7 });
      changes.push({ op: 'addPerson', depts: [i], leader: false, manager: i, reuseMobile: i });
      changes.push({ op: 'rejoin', former: i * 3, depts: [i + 1] });
    }
    for (const c of changes) org.apply(c);
    const mobiles = dt.listUsers().map((u) => u.mobile);
    expect(new Set(mobiles).size).toBe(mobiles.length);
  });
});
