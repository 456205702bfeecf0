/**
 * Department writes that WeCom refuses only because of the order in which changes arrive, and
 * how the sync settles them itself instead of recording a permanent failure:
 *
 * - 60010 (circular parent): a department moves under one of its former descendants, and the
 *   descendant's own move out of the way has not been written yet. The owned departments on the
 *   way from the new parent up to the one moving are synced first from DingTalk, then the write
 *   is made again.
 * - 60008 (a sibling already has the name): two departments swap names, or one takes the name of
 *   a sibling that is about to move, be renamed or deleted. When the holder is a department the
 *   sync owns and DingTalk no longer wants it to have that name there, the holder gets a
 *   temporary name, the write is made again, and the holder is then synced to its own name.
 *
 * A holder the sync does not own, or one DingTalk still names the same (two DingTalk names equal
 * in their first 64 characters), is a real clash: the write fails as before.
 */
import { isPlatformError } from '../errors';
import type { Logger } from '../log';
import type { DingTalkDirectory, EntityState, WeComDeptPayload, WeComDirectory } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import { type DeptContext, readDept } from './dept-context';
import type { EntityStateBook } from './entity-state';
import { errorText } from './error-text';
import { WECOM_ROOT_DEPT_ID, weComDeptName } from './mapping';
import type { SyncOutcome } from './outcome';
import { deptPayloadHash } from './payload-hash';

export interface DeptConflictDeps {
  dingtalk: Pick<DingTalkDirectory, 'getDept'>;
  wecom: WeComDirectory;
  states: EntityStateBook;
  /** Syncs a department again from DingTalk. */
  syncDept(deptId: number): Promise<SyncOutcome>;
  logger?: Logger;
}

/** The write that was refused: the department, its WeCom id when it exists, what was sent. */
export interface RefusedWrite {
  deptId: number;
  wecomId: number | undefined;
  payload: WeComDeptPayload;
}

/** Something was changed so the write may succeed now; `settle` then finishes what was left half-way. */
export interface Resolution {
  settle(): Promise<void>;
}

/** WeCom's limit on a department name, in characters. */
const WECOM_MAX_NAME_CHARS = 64;
const NOTHING_LEFT: Resolution = { settle: async () => undefined };

export class DeptConflicts {
  constructor(private readonly deps: DeptConflictDeps) {}

  /** A resolution when `e` was an ordering conflict that could be cleared, else undefined (the failure stands). */
  async resolve(ctx: DeptContext, e: unknown, write: RefusedWrite): Promise<Resolution | undefined> {
    if (isPlatformError(e, WECOM_ERR.deptCircular) && write.wecomId !== undefined) return this.moveDescendantsFirst(ctx, write);
    if (isPlatformError(e, WECOM_ERR.deptExists)) return this.freeTheName(ctx, write);
    return undefined;
  }

  private async moveDescendantsFirst(ctx: DeptContext, write: RefusedWrite): Promise<Resolution | undefined> {
    const tree = await this.deps.wecom.listDepts();
    const parentOf = new Map(tree.map((d) => [d.id, d.parentid]));
    // From the new parent up to the department that moves: its descendants in WeCom's tree today.
    const path: number[] = [];
    let at: number | undefined = write.payload.parentid;
    while (at !== undefined && at !== write.wecomId && at !== WECOM_ROOT_DEPT_ID && path.length <= tree.length) {
      path.push(at);
      at = parentOf.get(at);
    }
    if (at !== write.wecomId) return undefined;
    const owners = await this.ownersByWeComId();
    for (const wecomId of path.reverse()) {
      const owner = owners.get(String(wecomId));
      if (!owner || ctx.writing.has(Number(owner.id))) continue;
      const outcome = await this.deps.syncDept(Number(owner.id));
      if (outcome.result === 'updated' || outcome.result === 'created' || outcome.result === 'deleted') return NOTHING_LEFT;
    }
    return undefined;
  }

  private async freeTheName(ctx: DeptContext, write: RefusedWrite): Promise<Resolution | undefined> {
    const { wecom, states } = this.deps;
    const { name, parentid } = write.payload;
    const [tree, owners] = await Promise.all([wecom.listDepts(), this.ownersByWeComId()]);
    const holder = tree
      .filter((d) => d.parentid === parentid && d.id !== write.wecomId)
      .map((d) => owners.get(String(d.id)))
      .find((s) => s !== undefined && s.id !== String(write.deptId) && (s.payload as WeComDeptPayload | undefined)?.name === name);
    if (!holder || ctx.writing.has(Number(holder.id))) return undefined;
    if (await this.stillWants(ctx, holder, name)) return undefined;

    const temporary = temporaryName(name, holder.wecomId!);
    try {
      await wecom.updateDept({ id: Number(holder.wecomId), name: temporary });
    } catch {
      return undefined; // the original refusal stands
    }
    // Recorded, so the holder's next sync writes its real name whatever its hash said before.
    const payload = { ...(holder.payload as WeComDeptPayload), name: temporary };
    await states.save(holder, { ...holder, payload, payloadHash: deptPayloadHash(payload) }).catch(() => undefined);
    this.deps.logger?.info('department renamed for a moment to free its name', { deptId: holder.id, temporary, for: write.deptId });
    return {
      settle: async () => {
        try {
          await this.deps.syncDept(Number(holder.id));
        } catch (e) {
          // Its own message or the next reconcile finishes it; this department's write stands.
          this.deps.logger?.warn('department left with its temporary name for now', { deptId: holder.id, error: errorText(e) });
        }
      },
    };
  }

  /** Whether DingTalk still wants the holder to have this name where it is (then the clash is real). */
  private async stillWants(ctx: DeptContext, holder: EntityState, name: string): Promise<boolean> {
    const read = await readDept(ctx, this.deps.dingtalk, Number(holder.id));
    if (!('dept' in read)) return false; // gone or invisible: it will not keep the name
    const moved = holder.dingtalkParentId !== undefined && read.dept.parent_id !== holder.dingtalkParentId;
    return weComDeptName(read.dept) === name && !moved;
  }

  private async ownersByWeComId(): Promise<Map<string, EntityState>> {
    const all = await this.deps.states.list('dept');
    return new Map(all.filter((s) => s.owned && s.wecomId && s.status !== 'deleted').map((s) => [s.wecomId!, s]));
  }
}

/** `<name>~<wecomId>`, the name cut so the whole stays within WeCom's 64 characters; unique among siblings by the id. */
export function temporaryName(name: string, wecomId: string): string {
  const suffix = `~${wecomId}`;
  return `${Array.from(name)
    .slice(0, WECOM_MAX_NAME_CHARS - suffix.length)
    .join('')}${suffix}`;
}
