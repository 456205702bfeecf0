/**
 * Creating a department whose id WeCom assigns (its DingTalk id does not fit WeCom's ids, or a
 * department the sync does not own holds it). That id comes only in the answer, so an answer that
 * lost it (a proxy in between) leaves a department the store does not know, and every retry of
 * the same create gets 60008 (a sibling has the name) for ever.
 *
 * So before a try our claim records the parent, the name asked for and the parent's child ids
 * (`EntityState.creating`), kept across retries while a try's outcome is unknown, and a retry
 * that meets 60008 looks at the children that appeared since. WeCom's id lists carry no names:
 * 60008 is what says a sibling has our name, and the one new child that no record of the store
 * holds is the department this claim created. Anything else (several that cannot be told apart)
 * stays the permanent 60008: a department is never guessed. A try WeCom answered with a refusal
 * made nothing, so its snapshot is dropped: a department someone makes by hand before the retry
 * is never taken for ours.
 *
 * A department that moved (or was renamed) in DingTalk between a try in doubt and its retry
 * first has that try finished as it was asked, under the old parent with the old name (made now,
 * or found there by the same rule), and is then moved: a copy is never left behind there.
 */
import { isPlatformError, PlatformError } from '../errors';
import type { EntityState, WeComDeptPayload, WeComDirectory } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import { mayHoldName } from './dept-conflicts';
import type { EntityStateBook } from './entity-state';

/** Our claim on the department, replaced by the record as stored whenever it changes. */
export interface ClaimRef {
  state: EntityState;
}

type Deps = { wecom: WeComDirectory; states: EntityStateBook };
type Creating = NonNullable<EntityState['creating']>;

/** Creates the department without an id and returns the id WeCom gave it, or the one it gave on an earlier try. */
export async function createWithAssignedId(deps: Deps, claim: ClaimRef, payload: Omit<WeComDeptPayload, 'id'>): Promise<number> {
  const { wecom, states } = deps;
  // A snapshot still on the claim was taken before a try whose outcome is unknown (its answer was
  // lost, or its worker died): that try may have made the department.
  const inDoubt = claim.state.creating;
  if (inDoubt && !askedFor(inDoubt, payload)) {
    const earlier = await finishEarlierTry(deps, inDoubt);
    if (earlier !== undefined) {
      await wecom.updateDept({ ...payload, id: earlier });
      return earlier;
    }
  }
  const creating =
    inDoubt && askedFor(inDoubt, payload) ? inDoubt : { parentid: payload.parentid, name: payload.name, childIds: await childIds(wecom, payload.parentid) };
  if (creating !== inDoubt) claim.state = await states.noteCreating(claim.state, creating);
  try {
    return await wecom.createDept(payload);
  } catch (e) {
    if (!isPlatformError(e, WECOM_ERR.deptExists)) {
      // WeCom answered, so this try made nothing: the snapshot goes unless an earlier try may
      // have. A department that appears before the next try is then not taken for ours.
      if (isPlatformError(e) && e.refused && creating !== inDoubt) claim.state = await states.noteCreating(claim.state, undefined);
      throw e;
    }
    const made = await madeSince(deps, payload, creating, e);
    if (made === undefined) {
      // The name's holder was there before, or is the store's: no try made ours, nothing is in doubt.
      claim.state = await states.noteCreating(claim.state, undefined);
      throw e;
    }
    // Ours: the first try made it. Bring it up to date (DingTalk may have changed it since).
    await wecom.updateDept({ ...payload, id: made });
    return made;
  }
}

/** Whether the try in doubt asked for this very department (a record from before names were kept: by parent alone). */
function askedFor(inDoubt: Creating, payload: Omit<WeComDeptPayload, 'id'>): boolean {
  return inDoubt.parentid === payload.parentid && (inDoubt.name === undefined || inDoubt.name === payload.name);
}

/**
 * The try in doubt asked again as it was (old parent, old name): the department it made, found
 * as above, or the one made now. Undefined when nothing was made there: the name belongs to a
 * department that was already there, or the old parent cannot take it any more (gone).
 */
export async function finishEarlierTry(deps: Deps, inDoubt: Creating): Promise<number | undefined> {
  if (inDoubt.name === undefined) return undefined;
  try {
    return await deps.wecom.createDept({ name: inDoubt.name, parentid: inDoubt.parentid });
  } catch (e) {
    if (isPlatformError(e, WECOM_ERR.deptExists)) return madeSince(deps, { name: inDoubt.name, parentid: inDoubt.parentid }, inDoubt, e);
    if (isPlatformError(e) && e.refused) return undefined;
    throw e;
  }
}

/**
 * After 60008 (a sibling has the name): the one child that appeared under the parent since
 * `snapshot` and that no record holds, the department an earlier try made; undefined when none
 * did. WeCom keeps sibling names unique, so a child the store records under this very name
 * explains the refusal by itself: no earlier try made one, and a department someone made there
 * meanwhile is not taken for ours. Several that cannot be told apart: the refusal stands,
 * permanent.
 */
async function madeSince(deps: Deps, asked: Pick<WeComDeptPayload, 'name' | 'parentid'>, snapshot: Creating, e: PlatformError): Promise<number | undefined> {
  const before = new Set(snapshot.childIds);
  const held = new Map((await deps.states.list('dept')).filter((s) => s.wecomId !== undefined).map((s) => [s.wecomId!, s]));
  const recordedWithName = (id: number) => {
    const record = held.get(String(id));
    return record !== undefined && record.status !== 'deleted' && mayHoldName(record, asked.name);
  };
  const children = await childIds(deps.wecom, asked.parentid);
  if (children.some(recordedWithName)) return undefined;
  const appeared = children.filter((id) => !before.has(id) && !held.has(String(id)));
  if (appeared.length > 1) throw ambiguous(e, asked.parentid, appeared);
  return appeared[0];
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
