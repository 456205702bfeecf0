/**
 * The state-store side of syncing one entity: reading what was last written, the `pending` claim
 * taken before a create, saving the result, and recording failures.
 *
 * A claim has two parts. `status: 'pending'` is a short lock (PENDING_CLAIM_TTL_MS) that keeps two
 * workers from creating the same thing at once; `claim` names what the create asks WeCom for and
 * stays, through retries and failures, until a saved result confirms it (or the WeCom object it
 * names proves to be someone else's). Until then a WeCom object with exactly that id is the
 * sync's own.
 *
 * Every write is conditional on the version read (`ifVersion`), so two workers that raced on the
 * same entity cannot overwrite each other's record: the loser gets a `ConcurrentWriteError` and
 * its message goes back to the queue, to be re-read and re-applied.
 */
import { PlatformError } from '../errors';
import { noteStateWrite } from '../history/observed-writes';
import type { Logger } from '../log';
import { redactPersonalData } from '../personal-data';
import { type Clock, type EntityKind, type EntityState, type EntityStatus, StaleStateError, type StateStore } from '../ports';
import { errorText } from './error-text';
import type { SyncOutcome } from './outcome';

/** A claim older than this was left by a worker that died mid-create and may be taken over. */
const PENDING_CLAIM_TTL_MS = 2 * 60_000;

/** Thrown when another writer holds the claim or the lease on an entity, or saved it in between: the message is retried later. */
export class ConcurrentWriteError extends Error {
  override readonly name: string = 'ConcurrentWriteError';
}

/**
 * Thrown when a save finds the record changed since it was read: another writer got in between
 * (under the entity lease, one whose lease had expired), so what WeCom now holds is unknown.
 */
export class StaleSaveError extends ConcurrentWriteError {
  override readonly name = 'StaleSaveError';
}

/** The fields of a record to save; the store sets `version`, `save` sets `updatedAt`. */
type NextState = Omit<EntityState, 'version' | 'updatedAt'> & { updatedAt?: number };

/**
 * What a record keeps across a claim and a recorded failure: links to other entities that are
 * not about this write (the department's DingTalk parent, what waits for it, the departments a
 * member or child holds up, the people waiting for a member's contact details, the manager a
 * member's last write left out), so a failed write does not lose them.
 */
function kept(
  state: EntityState | undefined,
): Pick<EntityState, 'dingtalkParentId' | 'waitingUsers' | 'waitingDepts' | 'blocking' | 'releases' | 'contactWaiters' | 'leaderWithheld'> {
  return {
    dingtalkParentId: state?.dingtalkParentId,
    waitingUsers: state?.waitingUsers,
    waitingDepts: state?.waitingDepts,
    blocking: state?.blocking,
    releases: state?.releases,
    contactWaiters: state?.contactWaiters,
    leaderWithheld: state?.leaderWithheld,
  };
}

export class EntityStateBook {
  constructor(private readonly deps: { store: StateStore; clock: Clock; logger?: Logger }) {}

  get(kind: EntityKind, id: string): Promise<EntityState | undefined> {
    return this.deps.store.get(kind, id);
  }

  /** Every record of one kind: for the rare searches no key answers (a leaver holding a mobile, a department by its WeCom id). */
  list(kind: EntityKind): Promise<EntityState[]> {
    return this.deps.store.list(kind);
  }

  /**
   * Takes the conditional `pending` claim that keeps two workers from creating the same thing,
   * recording what the create is about to ask for (`intended`).
   */
  async claim(kind: EntityKind, id: string, state: EntityState | undefined, intended?: EntityState['claim']): Promise<EntityState> {
    const now = this.deps.clock.now();
    if (this.isFreshClaim(state)) {
      throw new ConcurrentWriteError(`${kind} ${id} is being created by another worker`);
    }
    try {
      return await this.write(
        state,
        {
          ...kept(state),
          kind,
          id,
          owned: state?.owned ?? false,
          wecomId: state?.wecomId,
          status: 'pending',
          // `creating` survives a retry: it was recorded before the first try (see noteCreating).
          creating: state?.creating,
          claim: intended ?? state?.claim,
          updatedAt: now,
        },
        { ifVersion: state?.version ?? 0 },
      );
    } catch (e) {
      if (e instanceof StaleStateError) throw new ConcurrentWriteError(`${kind} ${id} is being created by another worker`);
      throw e;
    }
  }

  /**
   * Adds to our claim what a department create whose id WeCom assigns needs if its answer is lost
   * (`EntityState.creating`), or removes it (undefined); returns the claim as now stored.
   */
  async noteCreating(claim: EntityState, creating: EntityState['creating']): Promise<EntityState> {
    const { version, ...fields } = claim;
    try {
      return await this.write(claim, { ...fields, creating, updatedAt: this.deps.clock.now() }, { ifVersion: version });
    } catch (e) {
      if (e instanceof StaleStateError) throw new ConcurrentWriteError(`${claim.kind} ${claim.id} is being created by another worker`);
      throw e;
    }
  }

  /** A `pending` claim young enough that its worker may still be creating the entity. */
  isFreshClaim(state: EntityState | undefined): boolean {
    return state?.status === 'pending' && this.deps.clock.now() - state.updatedAt < PENDING_CLAIM_TTL_MS;
  }

  /** Replaces `prev` (undefined: no record yet) with `next`, unless someone wrote in between. */
  async save(prev: EntityState | undefined, next: NextState): Promise<void> {
    const { version: _ignored, ...fields } = next as EntityState;
    try {
      await this.write(prev, { ...fields, updatedAt: this.deps.clock.now() }, { ifVersion: prev?.version ?? 0 });
    } catch (e) {
      if (e instanceof StaleStateError) throw new StaleSaveError(`${next.kind} ${next.id} was changed concurrently; retrying`);
      throw e;
    }
  }

  /**
   * A WeCom write failed: a permanent failure is recorded and returned as `failed` (the message is
   * acknowledged); anything else is thrown for the queue to retry, after releasing a claim this
   * call took, and after logging loudly what to fix when it is a configuration error.
   * `attempted`: the payload the write sent, which WeCom may hold now (see recordDoubt).
   */
  async onWriteError(
    kind: EntityKind,
    id: string,
    state: EntityState | undefined,
    hash: string | undefined,
    e: unknown,
    attempted?: EntityState['payload'],
  ): Promise<SyncOutcome> {
    if (e instanceof PlatformError && e.failure === 'permanent') {
      return this.recordPermanent(kind, id, state, { errcode: e.errcode, message: `${e.api}: ${e.errmsg}`, payloadHash: hash });
    }
    if (e instanceof PlatformError && e.failure === 'configuration') {
      this.deps.logger?.error('configuration error: fix it, then redrive the dead-letter queue', {
        kind,
        id,
        api: e.api,
        errcode: e.errcode,
        errmsg: redactPersonalData(e.errmsg),
      });
    }
    // A claim we took must not block the retry.
    if (state?.status === 'pending')
      await this.write(
        state,
        { ...state, status: 'failed', updatedAt: this.deps.clock.now(), lastError: 'creation interrupted' },
        { ifVersion: state.version },
      ).catch(() => undefined);
    else if (state?.owned) await this.recordDoubt(state, e, attempted);
    throw e;
  }

  /**
   * A write that failed retryably may have reached WeCom all the same (a timeout, a lost
   * answer): the record must no longer say what WeCom holds, or a change back to what it says
   * would be found unchanged and never written. Without the hash the next sync writes what it
   * finds; the payload kept is the one attempted, the newer of the two WeCom may hold (a mobile
   * it carries is one a leaver may have to give up); a disabled leaver whose re-enabling is in
   * doubt is no longer recorded as disabled, so a departure disables them again. Best effort,
   * like the claim above: the retry follows anyway.
   */
  private async recordDoubt(state: EntityState, e: unknown, attempted: EntityState['payload']): Promise<void> {
    const disabled = state.status === 'disabled';
    if (state.payloadHash === undefined && !disabled && attempted === undefined) return;
    const doubt: EntityState = { ...state, payload: attempted ?? state.payload, payloadHash: undefined, updatedAt: this.deps.clock.now() };
    if (disabled) {
      doubt.status = 'failed';
      doubt.lastErrcode = e instanceof PlatformError ? e.errcode : undefined;
      doubt.lastError = `a write that may have re-enabled the member failed: ${redactPersonalData(errorText(e))}`;
    }
    await this.write(state, doubt, { ifVersion: state.version }).catch(() => undefined);
  }

  /**
   * A failure that retrying will not cure: recorded as `failed`, not retried until the entity
   * changes. An unconfirmed claim is kept (the create may have reached WeCom on an earlier try)
   * unless `dropClaim` says the WeCom object it names is known not to be ours.
   */
  async recordPermanent(
    kind: EntityKind,
    id: string,
    state: EntityState | undefined,
    failure: { errcode?: number; message: string; payloadHash: string | undefined; dropClaim?: boolean },
  ): Promise<SyncOutcome> {
    const outcome = await this.recordFailure(kind, id, state, { status: 'failed', ...failure });
    this.deps.logger?.warn('permanent sync failure recorded', { kind, id, errcode: failure.errcode, error: outcome.message, metric: 'PermanentFailure' });
    return outcome;
  }

  /** DingTalk will not show the entity to this app: note why, and leave its WeCom side as it is. */
  async recordConfigurationProblem(kind: EntityKind, id: string, e: PlatformError, hint: string): Promise<SyncOutcome> {
    const state = await this.deps.store.get(kind, id);
    const status = !state || state.status === 'pending' ? 'failed' : state.status;
    const outcome = await this.recordFailure(kind, id, state, { status, payloadHash: state?.payloadHash, errcode: e.errcode, message: hint });
    this.deps.logger?.error('cannot read entity from DingTalk', { kind, id, errcode: e.errcode, hint });
    return outcome;
  }

  /** Every write of a record goes here: the audit (lib/history) notes what each sync changed. */
  private async write(prev: EntityState | undefined, next: Omit<EntityState, 'version'>, opts: { ifVersion: number }): Promise<EntityState> {
    const written = await this.deps.store.put(next, opts);
    noteStateWrite(prev, written);
    return written;
  }

  /**
   * Keeps what the store knew of the WeCom side (ownership, id, last payload) and adds the
   * failure, its message with personal data masked (a platform's errmsg may echo what was sent).
   */
  private async recordFailure(
    kind: EntityKind,
    id: string,
    state: EntityState | undefined,
    f: { status: EntityStatus; payloadHash: string | undefined; errcode?: number; message: string; dropClaim?: boolean },
  ): Promise<SyncOutcome> {
    const message = redactPersonalData(f.message);
    await this.save(state, {
      ...kept(state),
      kind,
      id,
      owned: state?.owned ?? false,
      wecomId: state?.wecomId,
      payload: state?.payload,
      claim: f.dropClaim ? undefined : state?.claim,
      // A create in doubt stays in doubt whatever fails after it: its retry (or the deletion)
      // still finds the copy that try may have made (assigned-dept-create.ts).
      creating: f.dropClaim ? undefined : state?.creating,
      status: f.status,
      payloadHash: f.payloadHash,
      lastErrcode: f.errcode,
      lastError: message,
    });
    return { kind, id, result: 'failed', wecomId: state?.wecomId, errcode: f.errcode, message };
  }
}
