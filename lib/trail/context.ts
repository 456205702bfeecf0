/**
 * The trail in force while one change is worked on, carried by AsyncLocalStorage so that every
 * line the sync logs on its way (decisions, WeCom writes, retries) carries the correlation id,
 * the entity and the trigger without each function passing them on.
 *
 * The worker sets it per queue message, the reconcile per run; EntitySync narrows the entity for
 * each entity it syncs (a user's sync may sync departments on the way, under the same trail).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LogFields, Logger } from '../log';
import type { EntityKind } from '../ports';
import { entityRef, type Trail } from './trail';

interface TrailContext {
  trail: Trail;
  entity?: { kind: EntityKind; id: string };
}

const storage = new AsyncLocalStorage<TrailContext>();

/** Runs `fn` under `trail` (and no entity yet). */
export function runWithTrail<T>(trail: Trail, fn: () => Promise<T>): Promise<T> {
  return storage.run({ trail }, fn);
}

/** Runs `fn` with the entity narrowed; the trail stays the one in force (none: nothing to narrow). */
export function runForEntity<T>(kind: EntityKind, id: string, fn: () => Promise<T>): Promise<T> {
  const current = storage.getStore();
  return current ? storage.run({ trail: current.trail, entity: { kind, id } }, fn) : fn();
}

/** The trail in force, if any. */
export function currentTrail(): Trail | undefined {
  return storage.getStore()?.trail;
}

/** The fields every log line under a trail carries. */
function trailFields(): LogFields {
  const context = storage.getStore();
  if (!context) return {};
  const fields: LogFields = { correlationId: context.trail.correlationId, trigger: context.trail.trigger };
  if (context.entity) fields.entity = entityRef(context.entity.kind, context.entity.id);
  return fields;
}

/** A logger that adds the trail in force to each line; a line's own fields win over it. */
export function withTrailFields(logger: Logger): Logger {
  const wrap =
    (write: Logger['info']) =>
    (message: string, fields?: LogFields): void =>
      write(message, { ...trailFields(), ...fields });
  return { debug: wrap(logger.debug), info: wrap(logger.info), warn: wrap(logger.warn), error: wrap(logger.error) };
}
