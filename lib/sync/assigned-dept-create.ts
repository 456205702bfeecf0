/**
 * Creating a department whose id WeCom assigns (its DingTalk id does not fit WeCom's ids, or a
 * department the sync does not own holds it). That id comes only in the answer, so an answer that
 * lost it (a proxy in between) leaves a department the store does not know, and every retry of
 * the same create gets 60008 (a sibling has the name) for ever.
 *
 * So before a try our claim records the parent's child ids (`EntityState.creating`), kept across
 * retries while a try's outcome is unknown, and a retry that meets 60008 looks at the children
 * that appeared since. WeCom's id lists carry no names: 60008 is what says a sibling has our name,
 * and the one new child that no record of the store holds is the department this claim created.
 * Anything else (none, or several that cannot be told apart) stays the permanent 60008: a
 * department is never guessed. A try WeCom answered with a refusal made nothing, so its snapshot
 * is dropped: a department someone makes by hand before the retry is never taken for ours.
 */
import { isPlatformError, PlatformError } from '../errors';
import type { EntityState, WeComDeptPayload, WeComDirectory } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import type { EntityStateBook } from './entity-state';

/** Our claim on the department, replaced by the record as stored whenever it changes. */
export interface ClaimRef {
  state: EntityState;
}

/** Creates the department without an id and returns the id WeCom gave it, or the one it gave on an earlier try. */
export async function createWithAssignedId(
  deps: { wecom: WeComDirectory; states: EntityStateBook },
  claim: ClaimRef,
  payload: Omit<WeComDeptPayload, 'id'>,
): Promise<number> {
  const { wecom, states } = deps;
  // A snapshot still on the claim was taken before a try whose outcome is unknown (its answer was
  // lost, or its worker died): that try may have made the department. Otherwise take one now.
  let creating = claim.state.creating;
  const inDoubt = creating?.parentid === payload.parentid;
  if (!creating || !inDoubt) {
    creating = { parentid: payload.parentid, childIds: await childIds(wecom, payload.parentid) };
    claim.state = await states.noteCreating(claim.state, creating);
  }
  try {
    return await wecom.createDept(payload);
  } catch (e) {
    if (!isPlatformError(e, WECOM_ERR.deptExists)) {
      // WeCom answered, so this try made nothing: the snapshot goes unless an earlier try may
      // have. A department that appears before the next try is then not taken for ours.
      if (isPlatformError(e) && e.refused && !inDoubt) claim.state = await states.noteCreating(claim.state, undefined);
      throw e;
    }
    const before = new Set(creating.childIds);
    const held = await states.heldWeComIds('dept');
    const appeared = (await childIds(wecom, payload.parentid)).filter((id) => !before.has(id) && !held.has(String(id)));
    if (appeared.length !== 1) throw appeared.length === 0 ? e : ambiguous(e, payload.parentid, appeared);
    const [id] = appeared as [number];
    // Ours: the first try made it. Bring it up to date (DingTalk may have changed it since).
    await wecom.updateDept({ ...payload, id });
    return id;
  }
}

/** The ids of the department's direct children (`simplelist` gives the whole subtree). */
async function childIds(wecom: WeComDirectory, parentid: number): Promise<number[]> {
  return (await wecom.listDepts(parentid)).filter((d) => d.parentid === parentid && d.id !== parentid).map((d) => d.id);
}

function ambiguous(e: PlatformError, parentid: number, appeared: number[]): PlatformError {
  return new PlatformError(
    'wecom',
    e.api,
    e.errcode,
    `${e.errmsg}; departments ${appeared.join(', ')} appeared under ${parentid} since this create was first tried and the store knows none of them: which one it made cannot be told, so none is taken`,
    'permanent',
  );
}
