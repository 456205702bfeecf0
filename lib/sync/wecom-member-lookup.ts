/**
 * Looking a userid up in WeCom, for the rare moments the worker must know what WeCom holds under
 * it: a create answered "userid exists" (60102), or a claim that was never confirmed. The
 * contact-sync secret may not read members (48009), only list their ids, so this reads the
 * whole `user/list_id` (a few calls even for a large company).
 */
import type { WeComDirectory } from '../ports';
import { indexWeComMembers, matchUser, type UserMatch, userKey } from './identity';

export async function lookUpWeComUser(wecom: Pick<WeComDirectory, 'listUserDepts'>, userid: string): Promise<UserMatch> {
  const members = indexWeComMembers(await wecom.listUserDepts());
  return matchUser(userid, members.get(userKey(userid)));
}
