/**
 * What the DingTalk simulator's `topapi/v2/user/list` answers for one member: DingTalk's list
 * item, which is not a `user/get` record. It carries the member's order and leadership for the
 * listed department only (`dept_order`, `leader`) and none of `manager_userid`,
 * `dept_order_list`, `leader_in_dept` or `role_list`: those come from `user/get` alone. Clients
 * that read the manager from a listing pass against a simulator that answers more, and fail
 * against DingTalk.
 */
import { LosslessNumber } from 'lossless-json';
import type { DingTalkUser } from '../ports';

/** The fields a list item may carry (DingTalk's SDK, `OapiV2UserListResponse.ListUserResponse`), when set. */
const LIST_ITEM_FIELDS = [
  'userid',
  'unionid',
  'name',
  'avatar',
  'state_code',
  'mobile',
  'hide_mobile',
  'telephone',
  'job_number',
  'title',
  'email',
  'org_email',
  'work_place',
  'remark',
  'dept_id_list',
  'extension',
  'hired_date',
  'active',
  'admin',
  'boss',
  'exclusive_account',
  'exclusive_account_type',
  'login_id',
] as const;

/**
 * The list item for `user` listed in department `deptId`. `shown` is the record as `user/get`
 * would show it (withheld fields already dropped); `user` is the stored record, for the order and
 * leadership in `deptId`. `dept_order` is a raw JSON integer, as DingTalk writes it.
 */
export function listItem(user: Readonly<DingTalkUser>, shown: Record<string, unknown>, deptId: number): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const field of LIST_ITEM_FIELDS) if (shown[field] !== undefined) item[field] = shown[field];
  const order = user.dept_order_list?.find((e) => e.dept_id === deptId)?.order;
  if (order !== undefined) item.dept_order = new LosslessNumber(order);
  item.leader = user.leader_in_dept?.some((e) => e.dept_id === deptId && e.leader) ?? false;
  return item;
}
