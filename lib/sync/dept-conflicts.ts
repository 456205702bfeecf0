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
import { ConcurrentWriteError, type EntityStateBook, StaleSaveError } from './entity-state';
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
  /** Runs `fn` holding another department's write lease (entity-lease.ts). */
  lease<T>(kind: 'dept', id: string, fn: () => Promise<T>): Promise<T>;
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
    const { name, parentid } = write.payload;
    const [tree, owners] = await Promise.all([this.deps.wecom.listDepts(), this.ownersByWeComId()]);
    const candidate = tree
      .filter((d) => d.parentid === parentid && d.id !== write.wecomId)
      .map((d) => owners.get(String(d.id)))
      .find((s) => s !== undefined && s.id !== String(write.deptId) && mayHoldName(s, name));
    if (!candidate || ctx.writing.has(Number(candidate.id))) return undefined;

    // The holder is another entity: renamed only under its own lease, from its record as it is
    // now, so a worker writing it at the same time can neither be overwritten by this rename nor
    // overwrite the record of it.
    const renamed = await this.deps.lease('dept', candidate.id, () => this.renameHolder(ctx, candidate.id, candidate.wecomId!, name));
    if (!renamed) return undefined;
    this.deps.logger?.info('department renamed for a moment to free its name', { deptId: candidate.id, temporary: renamed, for: write.deptId });
    return {
      settle: async () => {
        try {
          await this.deps.syncDept(Number(candidate.id));
        } catch (e) {
          // The record holds the temporary name, so its own message or the next reconcile writes
          // the real one; this department's write stands.
          this.deps.logger?.warn('department left with its temporary name for now', { deptId: candidate.id, error: errorText(e) });
        }
      },
    };
  }

  /**
   * Under the holder's lease: when its record still says it holds `name` at `wecomId` and DingTalk
   * no longer wants it there, records the temporary name first, then writes it to WeCom; returns
   * the temporary name, or undefined when the name is not to be freed after all.
   *
   * The record is written before WeCom, so they never disagree in the dangerous direction: a record
   * that says "real name" while WeCom holds the temporary one would never be repaired (the
   * reconcile compares hashes; WeCom names cannot be read). A failed save is thrown (the message is
   * retried), before anything was renamed.
   */
  private async renameHolder(ctx: DeptContext, holderId: string, wecomId: string, name: string): Promise<string | undefined> {
    const { wecom, states } = this.deps;
    const holder = await states.get('dept', holderId);
    const payload = holder?.payload as WeComDeptPayload | undefined;
    if (!holder?.owned || holder.status === 'deleted' || holder.wecomId !== wecomId || !payload || !mayHoldName(holder, name)) return undefined;
    if (await this.stillWants(ctx, holder, name)) return undefined;

    const temporary = temporaryName(name, wecomId);
    // Recorded already when an earlier rename's outcome was unknown: only WeCom is asked again.
    if (payload.name !== temporary) {
      const renamedPayload = { ...payload, name: temporary };
      try {
        await states.save(holder, { ...holder, payload: renamedPayload, payloadHash: deptPayloadHash(renamedPayload) });
      } catch (e) {
        // Not this department's record: its own writer (whose lease expired) got in. Retry later.
        if (e instanceof StaleSaveError) throw new ConcurrentWriteError(`department ${holderId} changed while its name was being freed; retrying`);
        throw e;
      }
    }
    try {
      await wecom.updateDept({ id: Number(wecomId), name: temporary });
      return temporary;
    } catch (e) {
      // Network trouble: the message is retried. Otherwise the original refusal stands.
      if (isPlatformError(e) && e.retryable) throw e;
      this.deps.logger?.warn('department could not be given a temporary name', { deptId: holderId, error: errorText(e) });
    }
    // WeCom kept the real name: the record says so again (if this fails, the holder's next sync
    // only writes the name it already has).
    const recorded = await states.get('dept', holderId);
    const real = { ...payload, name };
    if (recorded) await states.save(recorded, { ...recorded, payload: real, payloadHash: deptPayloadHash(real) }).catch(() => undefined);
    return undefined;
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

/**
 * Whether the record says this department may hold `name` in WeCom: it wrote that name last, or
 * a temporary rename away from it whose outcome is unknown (the record takes the temporary name
 * before WeCom is asked, and keeps it when the request is lost on the way).
 */
export function mayHoldName(state: EntityState, name: string): boolean {
  const recorded = (state.payload as WeComDeptPayload | undefined)?.name;
  return recorded === name || (state.wecomId !== undefined && recorded === temporaryName(name, state.wecomId));
}

/** `<name>~<wecomId>`, the name cut so the whole stays within WeCom's 64 characters; unique among siblings by the id. */
export function temporaryName(name: string, wecomId: string): string {
  const suffix = `~${wecomId}`;
  return `${Array.from(name)
    .slice(0, WECOM_MAX_NAME_CHARS - suffix.length)
    .join('')}${suffix}`;
}
