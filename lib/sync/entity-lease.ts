/**
 * The per-entity write lease: the worker and the reconcile both hold it across read DingTalk →
 * write WeCom → save, so writes to one entity never interleave. Without it, a write prepared from
 * an older read can land in WeCom after a newer one and stay there (the newer writer's record
 * says WeCom already holds its payload, so nothing rewrites it).
 *
 * The lease is a conditional write in the state store, taken before the work and deleted after
 * it. A holder that died leaves it to expire; an expired lease may be taken over.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import type { Clock, EntityKind, StateStore } from '../ports';
import { withRetries } from '../retry';
import { ConcurrentWriteError } from './entity-state';
import { errorText } from './error-text';

/**
 * Longer than the sync function's timeout (60 s, serverless.yml) and than one entity's few calls
 * at the HTTP timeout (5 s each), so a lease cannot expire while its holder may still write;
 * short, so a crashed holder delays the entity by a minute and a half at most.
 */
export const ENTITY_LEASE_TTL_MS = 90_000;

/**
 * How long the reconcile waits for a lease the worker holds (about 6 s in all): a worker holds
 * one for the few calls of one entity.
 */
export const LEASE_WAIT_DELAYS_MS: readonly number[] = [100, 200, 400, 800, 1_600, 3_200];

/** Another worker or the reconcile is writing this entity now. */
export class EntityLeasedError extends ConcurrentWriteError {
  override readonly name = 'EntityLeasedError';
  constructor(
    readonly kind: EntityKind,
    readonly id: string,
  ) {
    super(`${kind} ${id} is being written by another worker or the reconcile; retrying later`);
  }
}

export interface EntityLeaseDeps {
  store: Pick<StateStore, 'acquireLease' | 'releaseLease'>;
  clock: Clock;
  logger?: Logger;
}

/**
 * Runs `fn` holding the lease on one entity. A held lease throws EntityLeasedError at once, or
 * after waiting `waitDelaysMs` between attempts. The lease is released however `fn` ends; a
 * release that fails is only logged (the lease then expires by itself).
 */
export async function withEntityLease<T>(
  deps: EntityLeaseDeps,
  kind: EntityKind,
  id: string,
  fn: () => Promise<T>,
  opts: { waitDelaysMs?: readonly number[] } = {},
): Promise<T> {
  const owner = randomUUID();
  await withRetries({ delaysMs: opts.waitDelaysMs ?? [], retryable: (e) => e instanceof EntityLeasedError }, async () => {
    if (!(await deps.store.acquireLease(kind, id, owner, ENTITY_LEASE_TTL_MS, deps.clock.now()))) throw new EntityLeasedError(kind, id);
  });
  try {
    return await fn();
  } finally {
    await deps.store.releaseLease(kind, id, owner).catch((e: unknown) => {
      deps.logger?.warn('could not release an entity lease; it expires by itself', { kind, id, error: errorText(e) });
    });
  }
}
