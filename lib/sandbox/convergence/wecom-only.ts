/**
 * What WeCom holds that is not the sync's, for the convergence property: departments and members
 * an administrator created by hand before the sync ran, and the judge of whether a WeCom call
 * touched any of them.
 *
 * Their names, userids and contact details never occur in the DingTalk scenario, so the sync has
 * no business with them; one department has an id DingTalk hands out later, under a parent
 * DingTalk does not have, which the sync must not adopt.
 */
import type { FaultCall } from '../faults';
import type { WeComSimDept, WeComSimUser, WeComSimulator } from '../wecom-sim';

export interface WeComOnly {
  depts: WeComSimDept[];
  users: WeComSimUser[];
}

/** Creates the administrator's own departments and members, and returns them as WeCom stores them. */
export function seedWeComOnly(wc: WeComSimulator, opts: { takenLaterId: number }): WeComOnly {
  const office = wc.seedDept({ name: '行政(WeCom)', parentid: 1 });
  const contractors = wc.seedDept({ name: '外包(WeCom)', parentid: office });
  const lateId = wc.seedDept({ id: opts.takenLaterId, name: '临时(WeCom)', parentid: office });
  const members = [
    { userid: 'wconly-boss', name: '老板', department: [1], mobile: '+86 13700000001' },
    { userid: 'wconly-clerk', name: '文员', department: [office], email: 'clerk@wecom-only.example' },
    { userid: 'wconly-temp', name: '临时工', department: [contractors, lateId], mobile: '+86 13700000003', direct_leader: ['wconly-boss'] },
  ];
  for (const m of members) wc.seedUser(m);
  return {
    depts: [office, contractors, lateId].map((id) => wc.getDept(id)!),
    users: members.map((m) => wc.getUser(m.userid)!),
  };
}

/**
 * Why a WeCom call touches an object of `only`, or undefined: a change to one of its departments
 * or members, a department created under one, or a member placed in one.
 */
export function touchOf(call: FaultCall, only: WeComOnly): string | undefined {
  const depts = new Set(only.depts.map((d) => d.id));
  const users = new Set(only.users.map((u) => u.userid.toLowerCase()));
  const body = parse(call.body);
  const deptId = Number(call.query.get('id') ?? body.id);
  const userids = [call.query.get('userid'), body.userid, ...(Array.isArray(body.useridlist) ? body.useridlist : [])].filter(
    (u): u is string => typeof u === 'string',
  );
  const placedIn = Array.isArray(body.department) ? (body.department as unknown[]) : [];
  const hit =
    (/^department\/(update|delete)$/.test(call.api) && depts.has(deptId)) ||
    (/^department\/(create|update)$/.test(call.api) && depts.has(Number(body.parentid))) ||
    (/^user\/(update|delete|batchdelete)$/.test(call.api) && userids.some((u) => users.has(u.toLowerCase()))) ||
    (/^user\/(create|update)$/.test(call.api) && placedIn.some((d) => depts.has(Number(d))));
  return hit ? `${call.api} ${call.query.toString()} ${call.body}`.trim() : undefined;
}

function parse(body: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
