/**
 * Creating the WeCom copy of a DingTalk department: with the DingTalk id when WeCom can take it,
 * else with an id WeCom assigns (assigned-dept-create.ts, which also finds an assigned id whose
 * answer was lost).
 *
 * A WeCom department that already has the wanted id (60008 is "id or sibling name already
 * exists": only the id list tells which) is taken over only when it is the sync's own. Never
 * when the store records it as another department's copy (`deptHeldByAnother`: WeCom gave it
 * this id when that department's own was taken; only a full read of the records tells, on this
 * rare path alone); otherwise
 * - when an earlier try of this very create may have made it: the claim that try left names the
 *   id and the parent it asked for, wherever the department has moved since (the claim cannot
 *   tell whether that try landed, hence the check above);
 * - or as `mayAdoptDept` allows: under the parent the copy belongs under (what a create whose
 *   saved result was lost leaves behind).
 * Anyone else's keeps its id, and WeCom assigns one to the copy.
 */
import { isPlatformError } from '../errors';
import type { DingTalkDept, EntityState, WeComDeptPayload, WeComDirectory } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import { type ClaimRef, createWithAssignedId } from './assigned-dept-create';
import type { EntityStateBook } from './entity-state';
import { claimedDeptPresent, deptHeldByAnother, mayAdoptDept } from './identity';
import { wecomDeptIdFor } from './mapping';
import type { SyncResult } from './outcome';

/** `before`: the record as it was before this try's claim, with the claim an earlier try left. */
export async function createDeptCopy(
  deps: { wecom: WeComDirectory; states: EntityStateBook },
  dept: DingTalkDept,
  payload: WeComDeptPayload,
  claim: ClaimRef,
  before: EntityState | undefined,
): Promise<{ wecomId: number; result: SyncResult }> {
  const { wecom, states } = deps;
  const wantedId = wecomDeptIdFor(dept.dept_id);
  const assigned = async () => ({ wecomId: await createWithAssignedId(deps, claim, payload), result: 'created' as const });
  if (wantedId === undefined) return assigned();
  try {
    return { wecomId: await wecom.createDept({ ...payload, id: wantedId }), result: 'created' };
  } catch (e) {
    if (!isPlatformError(e, WECOM_ERR.deptExists)) throw e;
    const existing = (await wecom.listDepts()).find((d) => d.id === wantedId);
    if (!existing) throw e;
    const heldByAnother = deptHeldByAnother(await states.list('dept'), String(dept.dept_id), existing);
    const ownEarlierTry = claimedDeptPresent(before, new Map([[existing.id, existing]]), () => heldByAnother);
    if (ownEarlierTry || mayAdoptDept(existing, payload.parentid, heldByAnother)) {
      await wecom.updateDept({ ...payload, id: wantedId });
      return { wecomId: wantedId, result: 'adopted' };
    }
    return assigned(); // the id is someone else's
  }
}
