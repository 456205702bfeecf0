/**
 * The state-store side of syncing one entity: reading what was last written, the `pending` claim
 * taken before a create, saving the result, and recording failures.
 *
 * Every write is conditional on the version read (`ifVersion`), so two workers that raced on the
 * same entity cannot overwrite each other's record: the loser gets a `ConcurrentWriteError` and
 * its message goes back to the queue, to be re-read and re-applied.
 */
import { PlatformError } from '../errors';
import type { Logger } from '../log';
import { type Clock, type EntityKind, type EntityState, type EntityStatus, StaleStateError, type StateStore } from '../ports';
import type { SyncOutcome } from './outcome';

/** A claim older than this was left by a worker that died mid-create and may be taken over. */
const PENDING_CLAIM_TTL_MS = 2 * 60_000;

/** Thrown when another worker holds the claim on an entity: the message is retried later. */
export class ConcurrentWriteError extends Error {
  override readonly name = 'ConcurrentWriteError';
}

/** The fields of a record to save; the store sets `version`, `save` sets `updatedAt`. */
type NextState = Omit<EntityState, 'version' | 'updatedAt'> & { updatedAt?: number };

/**
 * What a record keeps across a claim and a recorded failure: links to other entities that are
 * not about this write (the department's DingTalk parent, the users waiting for it, the
 * departments a member holds up), so a failed write does not lose them.
 */
function kept(state: EntityState | undefined): Pick<EntityState, 'dingtalkParentId' | 'waitingUsers' | 'blocking'> {
  return { dingtalkParentId: state?.dingtalkParentId, waitingUsers: state?.waitingUsers, blocking: state?.blocking };
}

export class EntityStateBook {
  constructor(private readonly deps: { store: StateStore; clock: Clock; logger?: Logger }) {}

  get(kind: EntityKind, id: string): Promise<EntityState | undefined> {
    return this.deps.store.get(kind, id);
  }

  /** Every record of one kind: for the rare paths that look a department up by its WeCom id. */
  list(kind: EntityKind): Promise<EntityState[]> {
    return this.deps.store.list(kind);
  }

  /** Takes the conditional `pending` claim that keeps two workers from creating the same thing. */
  async claim(kind: EntityKind, id: string, state: EntityState | undefined): Promise<EntityState> {
    const now = this.deps.clock.now();
    if (state?.status === 'pending' && now - state.updatedAt < PENDING_CLAIM_TTL_MS) {
      throw new ConcurrentWriteError(`${kind} ${id} is being created by another worker`);
    }
    try {
      return await this.deps.store.put(
        { ...kept(state), kind, id, owned: state?.owned ?? false, wecomId: state?.wecomId, status: 'pending', updatedAt: now },
        { ifVersion: state?.version ?? 0 },
      );
    } catch (e) {
      if (e instanceof StaleStateError) throw new ConcurrentWriteError(`${kind} ${id} is being created by another worker`);
      throw e;
    }
  }

  /** Replaces `prev` (undefined: no record yet) with `next`, unless someone wrote in between. */
  async save(prev: EntityState | undefined, next: NextState): Promise<void> {
    const { version: _ignored, ...fields } = next as EntityState;
    try {
      await this.deps.store.put({ ...fields, updatedAt: this.deps.clock.now() }, { ifVersion: prev?.version ?? 0 });
    } catch (e) {
      if (e instanceof StaleStateError) throw new ConcurrentWriteError(`${next.kind} ${next.id} was changed concurrently; retrying`);
      throw e;
    }
  }

  /**
   * A WeCom write failed: a permanent failure is recorded and returned as `failed` (the message is
   * acknowledged); anything else is thrown for the queue to retry, after releasing a claim this
   * call took, and after logging loudly what to fix when it is a configuration error.
   */
  async onWriteError(kind: EntityKind, id: string, state: EntityState | undefined, hash: string | undefined, e: unknown): Promise<SyncOutcome> {
    if (e instanceof PlatformError && e.failure === 'permanent') {
      return this.recordPermanent(kind, id, state, { errcode: e.errcode, message: `${e.api}: ${e.errmsg}`, payloadHash: hash });
    }
    if (e instanceof PlatformError && e.failure === 'configuration') {
      this.deps.logger?.error('configuration error: fix it, then redrive the dead-letter queue', {
        kind,
        id,
        api: e.api,
        errcode: e.errcode,
        errmsg: e.errmsg,
      });
    }
    // A claim we took must not block the retry.
    if (state?.status === 'pending')
      await this.deps.store
        .put({ ...state, status: 'failed', updatedAt: this.deps.clock.now(), lastError: 'creation interrupted' }, { ifVersion: state.version })
        .catch(() => undefined);
    throw e;
  }

  /** A failure that retrying will not cure: recorded as `failed`, not retried until the entity changes. */
  async recordPermanent(
    kind: EntityKind,
    id: string,
    state: EntityState | undefined,
    failure: { errcode?: number; message: string; payloadHash: string | undefined },
  ): Promise<SyncOutcome> {
    const outcome = await this.recordFailure(kind, id, state, { status: 'failed', ...failure });
    this.deps.logger?.warn('permanent sync failure recorded', { kind, id, errcode: failure.errcode, error: failure.message, metric: 'PermanentFailure' });
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

  /** Keeps what the store knew of the WeCom side (ownership, id, last payload) and adds the failure. */
  private async recordFailure(
    kind: EntityKind,
    id: string,
    state: EntityState | undefined,
    f: { status: EntityStatus; payloadHash: string | undefined; errcode?: number; message: string },
  ): Promise<SyncOutcome> {
    await this.save(state, {
      ...kept(state),
      kind,
      id,
      owned: state?.owned ?? false,
      wecomId: state?.wecomId,
      payload: state?.payload,
      status: f.status,
      payloadHash: f.payloadHash,
      lastErrcode: f.errcode,
      lastError: f.message,
    });
    return { kind, id, result: 'failed', wecomId: state?.wecomId, errcode: f.errcode, message: f.message };
  }
}
