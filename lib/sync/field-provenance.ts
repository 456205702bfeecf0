/**
 * Field provenance: a DingTalk record read from a listing does not carry every field (`v2/user/list`
 * has no `manager_userid`), and an absent field there means "unknown", not "empty". The reconcile
 * builds people from listings, so it must neither compare nor write what they cannot show, or it
 * would clear every reporting line on each run and the next event would set it again. Pure.
 *
 * The rule: a WeCom field fed by an unknown DingTalk field keeps the value last written (the
 * payload remembered and hashed carries it over, so it compares equal), and is not sent.
 */
import type { DingTalkUser, UnknownUserField, WeComUserPayload } from '../ports';

/** The WeCom payload fields each DingTalk field feeds. */
const FEEDS: Record<UnknownUserField, readonly (keyof WeComUserPayload)[]> = {
  manager_userid: ['direct_leader'],
};

/** A `v2/user/list` item: without a `manager_userid` it cannot tell who the manager is. */
export function fromListing(user: DingTalkUser): DingTalkUser {
  return user.manager_userid === undefined ? { ...user, unknownFields: ['manager_userid'] } : user;
}

function unknownPayloadFields(user: DingTalkUser): (keyof WeComUserPayload)[] {
  return (user.unknownFields ?? []).flatMap((f) => FEEDS[f]);
}

/**
 * The payload to compare and remember: `mapped` with each field `user` cannot tell replaced by
 * its value in `previous` (what was last written), or left out when it was never written.
 */
export function keepUnknownFields(mapped: WeComUserPayload, user: DingTalkUser, previous: WeComUserPayload | undefined): WeComUserPayload {
  const unknown = unknownPayloadFields(user);
  if (unknown.length === 0) return mapped;
  const out: Record<string, unknown> = { ...mapped };
  for (const field of unknown) {
    if (previous?.[field] === undefined) delete out[field];
    else out[field] = previous[field];
  }
  return out as unknown as WeComUserPayload;
}

/** What to send WeCom: only the fields `user` can tell (`user/update` leaves the others as they are). */
export function knownFieldsOnly<P extends Partial<WeComUserPayload>>(payload: P, user: DingTalkUser): P {
  const unknown = unknownPayloadFields(user);
  if (unknown.length === 0) return payload;
  const out: Record<string, unknown> = { ...payload };
  for (const field of unknown) delete out[field];
  return out as P;
}
