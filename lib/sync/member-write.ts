/**
 * Writing one person's member to WeCom, idempotently: an update that finds nothing creates, a
 * create that finds the userid updates — but only a member with exactly this userid, since
 * WeCom's case-insensitive match may be someone else.
 */
import { isPlatformError } from '../errors';
import type { DingTalkUser, EntityState, WeComDirectory, WeComUserPayload } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import { clearsLeaverPlaceholder } from './contact-release';
import { knownFieldsOnly } from './field-provenance';
import type { SyncResult } from './outcome';
import { lookUpWeComUser } from './wecom-member-lookup';

/** What writing a user to WeCom did: a result, or a member that answers to the userid but is someone else. */
export type MemberWrite = { result: SyncResult } | { caseConflict: string };

/**
 * Writes `payload` (only the fields `user` can tell) to `user`'s member. `owned`: the record of
 * the member the sync owns, which tells whether a rehire may still hold their leaver's placeholder
 * address; false or undefined when the sync owns none yet.
 */
export async function writeMember(
  wecom: WeComDirectory,
  user: DingTalkUser,
  payload: WeComUserPayload,
  owned: EntityState | false | undefined,
): Promise<MemberWrite> {
  // One payload for both calls: WeComApi.updateUser leaves out `to_invite`, which is for creates only.
  const known = knownFieldsOnly(payload, user);
  if (owned) {
    const update = clearsLeaverPlaceholder(known, owned) ? { ...known, email: '' } : known;
    try {
      await wecom.updateUser(update);
      return { result: 'updated' };
    } catch (e) {
      if (!isPlatformError(e, WECOM_ERR.useridNotFound)) throw e;
      await wecom.createUser(known); // removed in WeCom behind our back: create again
      return { result: 'created' };
    }
  }
  try {
    await wecom.createUser(known);
    return { result: 'created' };
  } catch (e) {
    if (!isPlatformError(e, WECOM_ERR.useridExists)) throw e;
    const match = await lookUpWeComUser(wecom, user.userid);
    if (match.kind === 'case_conflict') return { caseConflict: match.wecomUserid };
    // Not listed although WeCom says it exists: nothing to tell it is ours, so WeCom's refusal stands.
    if (match.kind === 'absent') throw e;
    await wecom.updateUser(known); // exactly this userid: take that member over
    return { result: 'adopted' };
  }
}
