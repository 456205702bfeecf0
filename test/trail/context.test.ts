import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../lib/log';
import { currentTrail, runForEntity, runWithTrail, withTrailFields } from '../../lib/trail/context';

const trail = { correlationId: 'c-1', trigger: { source: 'push' as const, eventType: 'user_add_org' } };

describe('the trail in force', () => {
  it('adds the correlation id, trigger and entity to every line, across awaits', async () => {
    const memory = createMemoryLogger();
    const logger = withTrailFields(memory);
    logger.info('outside');
    await runWithTrail(trail, async () => {
      logger.info('before an entity');
      await runForEntity('user', 'zhangsan', async () => {
        await new Promise((r) => setTimeout(r, 1));
        logger.warn('inside', { detail: 1 });
        await runForEntity('dept', '3', async () => logger.debug('nested'));
        logger.error('back');
      });
    });
    expect(memory.entries).toEqual([
      { level: 'info', message: 'outside' },
      { level: 'info', message: 'before an entity', correlationId: 'c-1', trigger: trail.trigger },
      { level: 'warn', message: 'inside', correlationId: 'c-1', trigger: trail.trigger, entity: 'user:zhangsan', detail: 1 },
      { level: 'debug', message: 'nested', correlationId: 'c-1', trigger: trail.trigger, entity: 'dept:3' },
      { level: 'error', message: 'back', correlationId: 'c-1', trigger: trail.trigger, entity: 'user:zhangsan' },
    ]);
  });

  it('lets a line name its own entity, and keeps concurrent trails apart', async () => {
    const memory = createMemoryLogger();
    const logger = withTrailFields(memory);
    await Promise.all(
      ['a', 'b'].map((id) =>
        runWithTrail({ correlationId: id, trigger: { source: 'direct' } }, async () => {
          await new Promise((r) => setTimeout(r, id === 'a' ? 5 : 0));
          logger.info('line', { entity: `user:${id}-own` });
          expect(currentTrail()?.correlationId).toBe(id);
        }),
      ),
    );
    expect(memory.entries.map((e) => [e.correlationId, e.entity])).toEqual([
      ['b', 'user:b-own'],
      ['a', 'user:a-own'],
    ]);
  });

  it('narrows nothing outside a trail', async () => {
    expect(await runForEntity('user', 'x', async () => currentTrail())).toBeUndefined();
  });
});
