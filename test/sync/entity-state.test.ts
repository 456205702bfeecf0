/**
 * The state bookkeeping on its own, on the embedded store with a clock the test moves: claims,
 * conditional saves and recorded failures. (EntitySync's use of it runs against the simulators
 * in entity.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { DINGTALK_ERR } from '../../lib/dingtalk/errors';
import { ERRCODE_PROTOCOL, PlatformError } from '../../lib/errors';
import { FileStateStore } from '../../lib/local/file-store';
import { createMemoryLogger } from '../../lib/log';
import { ConcurrentWriteError, EntityStateBook, StaleSaveError } from '../../lib/sync/entity-state';
import { WECOM_ERR } from '../../lib/wecom/errors';

function setup() {
  const store = new FileStateStore(undefined);
  const clock = { t: 1_000_000, now: () => clock.t };
  const logger = createMemoryLogger();
  return { store, clock, logger, states: new EntityStateBook({ store, clock, logger }) };
}

const wecomError = (errcode: number, failure: PlatformError['failure']) => new PlatformError('wecom', 'department/create', errcode, 'refused', failure);

describe('a claim is taken once, and taken over only when its worker is presumed dead', () => {
  it('takes a claim on an unknown entity, and refuses a second one while it is fresh', async () => {
    const { states, clock } = setup();
    const claim = await states.claim('dept', '2', undefined);
    expect(claim).toMatchObject({ status: 'pending', owned: false, updatedAt: clock.t, version: 1 });
    clock.t += 2 * 60_000 - 1;
    await expect(states.claim('dept', '2', claim)).rejects.toThrow(new ConcurrentWriteError('dept 2 is being created by another worker'));
  });

  it('takes over a claim two minutes old', async () => {
    const { states, clock } = setup();
    const claim = await states.claim('dept', '2', undefined);
    clock.t += 2 * 60_000;
    expect(await states.claim('dept', '2', claim)).toMatchObject({ status: 'pending', version: 2 });
  });

  it('loses the race when another worker claimed after the state was read', async () => {
    const { states } = setup();
    await states.claim('dept', '2', undefined);
    await expect(states.claim('dept', '2', undefined)).rejects.toBeInstanceOf(ConcurrentWriteError);
  });
});

describe("a create whose id WeCom assigns keeps the parent's children in its claim until it is settled", () => {
  const creating = { parentid: 1, childIds: [5000] };

  it('notes them on its own claim only, and keeps them across a released claim and the next one', async () => {
    const { store, states, clock } = setup();
    const claim = await states.claim('dept', '3000000000', undefined);
    clock.t += 1;
    const noted = await states.noteCreating(claim, creating);
    expect(noted).toMatchObject({ status: 'pending', creating, updatedAt: clock.t, version: 2 });
    await expect(states.noteCreating(claim, creating)).rejects.toThrow(new ConcurrentWriteError('dept 3000000000 is being created by another worker'));

    await expect(states.onWriteError('dept', '3000000000', noted, 'h', wecomError(ERRCODE_PROTOCOL, 'retryable'))).rejects.toBeInstanceOf(PlatformError);
    const released = await store.get('dept', '3000000000');
    expect(released).toMatchObject({ status: 'failed', creating });
    expect(await states.claim('dept', '3000000000', released)).toMatchObject({ status: 'pending', creating });
  });

  it('drops them once the department is saved, and keeps them through a recorded failure (only the create can tell nothing was made)', async () => {
    const { store, states } = setup();
    const noted = await states.noteCreating(await states.claim('dept', '3', undefined), creating);
    await states.save(noted, { kind: 'dept', id: '3', owned: true, wecomId: '5001', status: 'synced' });
    expect(await store.get('dept', '3')).not.toHaveProperty('creating');

    // A permanent failure after a try in doubt (its parent refused, say): the copy may exist all the same.
    const other = await states.noteCreating(await states.claim('dept', '4', undefined), creating);
    await states.onWriteError('dept', '4', other, 'h', wecomError(WECOM_ERR.deptExists, 'permanent'));
    expect(await store.get('dept', '4')).toMatchObject({ status: 'failed', creating });
  });
});

describe('links to other entities survive a claim and a recorded failure', () => {
  it('keeps the DingTalk parent, the waiting users and the departments a member holds up', async () => {
    const { store, states } = setup();
    const links = { dingtalkParentId: 2, waitingUsers: ['lisi'], blocking: ['5'] };
    await store.put({ kind: 'dept', id: '4', owned: false, status: 'failed', updatedAt: 0, ...links });
    const claim = await states.claim('dept', '4', await store.get('dept', '4'));
    expect(claim).toMatchObject({ status: 'pending', ...links });
    await states.recordPermanent('dept', '4', claim, { errcode: WECOM_ERR.deptExists, message: 'name taken', payloadHash: 'h' });
    expect(await store.get('dept', '4')).toMatchObject({ status: 'failed', lastErrcode: WECOM_ERR.deptExists, ...links });
  });
});

describe('saves are conditional on the version read', () => {
  it('saves over the record read, stamping the time', async () => {
    const { store, states, clock } = setup();
    await states.save(undefined, { kind: 'user', id: 'u', owned: true, status: 'synced', wecomId: 'u' });
    const saved = await store.get('user', 'u');
    expect(saved).toMatchObject({ status: 'synced', updatedAt: clock.t, version: 1 });
    clock.t += 5;
    await states.save(saved, { ...saved!, status: 'disabled' });
    expect(await store.get('user', 'u')).toMatchObject({ status: 'disabled', updatedAt: clock.t, version: 2 });
  });

  it('refuses to save over a record someone changed since it was read', async () => {
    const { store, states } = setup();
    await states.save(undefined, { kind: 'user', id: 'u', owned: true, status: 'synced' });
    const read = await store.get('user', 'u');
    await states.save(read, { ...read!, status: 'disabled' });
    const stale = states.save(read, { ...read!, status: 'deleted' });
    await expect(stale).rejects.toThrow(new StaleSaveError('user u was changed concurrently; retrying'));
    await expect(stale).rejects.toBeInstanceOf(ConcurrentWriteError); // what the worker retries
    expect((await store.get('user', 'u'))?.status).toBe('disabled');
  });
});

describe('write errors: permanent ones are recorded, the others thrown for the queue', () => {
  it('records a permanent error with the payload hash, keeping what was known of the WeCom side', async () => {
    const { store, states, logger } = setup();
    await states.save(undefined, { kind: 'dept', id: '2', owned: true, wecomId: '2', status: 'synced', payload: { name: 'A', parentid: 1 } });
    const state = await store.get('dept', '2');
    const outcome = await states.onWriteError('dept', '2', state, 'hash-b', wecomError(WECOM_ERR.deptNameIllegalChars, 'permanent'));
    expect(outcome).toEqual({
      kind: 'dept',
      id: '2',
      result: 'failed',
      wecomId: '2',
      errcode: WECOM_ERR.deptNameIllegalChars,
      message: 'department/create: refused',
    });
    expect(await store.get('dept', '2')).toMatchObject({
      status: 'failed',
      owned: true,
      wecomId: '2',
      payload: { name: 'A', parentid: 1 },
      payloadHash: 'hash-b',
      lastErrcode: WECOM_ERR.deptNameIllegalChars,
    });
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'warn', metric: 'PermanentFailure' }));
  });

  it('releases its own claim on a retryable error, then throws it', async () => {
    const { store, states } = setup();
    const claim = await states.claim('dept', '2', undefined);
    const error = wecomError(WECOM_ERR.rateLimited, 'retryable');
    await expect(states.onWriteError('dept', '2', claim, 'h', error)).rejects.toBe(error);
    expect(await store.get('dept', '2')).toMatchObject({ status: 'failed', lastError: 'creation interrupted' });
  });

  it('on a retryable error, stops recording what WeCom holds for an owned entity: the write may have landed', async () => {
    const { store, states } = setup();
    await states.save(undefined, {
      kind: 'dept',
      id: '2',
      owned: true,
      wecomId: '2',
      status: 'synced',
      payloadHash: 'hash-a',
      payload: { name: 'A', parentid: 1 },
    });
    const error = wecomError(-1, 'retryable');
    await expect(states.onWriteError('dept', '2', await store.get('dept', '2'), 'hash-b', error)).rejects.toBe(error);
    const doubted = await store.get('dept', '2');
    expect(doubted).toMatchObject({ status: 'synced', owned: true, wecomId: '2', payload: { name: 'A', parentid: 1 } });
    expect(doubted).not.toHaveProperty('payloadHash');
    // Given what the write sent, the record keeps that: the newer of what WeCom may hold.
    await expect(states.onWriteError('dept', '2', doubted, 'hash-c', error, { name: 'C', parentid: 1 })).rejects.toBe(error);
    expect(await store.get('dept', '2')).toMatchObject({ status: 'synced', payload: { name: 'C', parentid: 1 } });
  });

  it('on a retryable error, no longer records a disabled leaver as disabled: the re-enabling may have landed', async () => {
    const { store, states } = setup();
    await states.save(undefined, {
      kind: 'user',
      id: 'p001',
      owned: true,
      wecomId: 'p001',
      status: 'disabled',
      payload: { userid: 'p001', name: 'P', department: [1] },
    });
    const error = wecomError(-1, 'retryable');
    await expect(states.onWriteError('user', 'p001', await store.get('user', 'p001'), 'h', error)).rejects.toBe(error);
    expect(await store.get('user', 'p001')).toMatchObject({
      status: 'failed',
      owned: true,
      wecomId: 'p001',
      lastErrcode: -1,
      lastError: expect.stringMatching(/re-enabled/),
    });
  });

  it('logs a configuration error loudly, then throws it', async () => {
    const { states, logger } = setup();
    const error = wecomError(WECOM_ERR.untrustedIp, 'configuration');
    await expect(states.onWriteError('dept', '2', undefined, 'h', error)).rejects.toBe(error);
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'error', errcode: WECOM_ERR.untrustedIp }));
  });
});

describe('an entity DingTalk will not show is noted, its WeCom side left as it is', () => {
  it('keeps the status of a synced entity and notes the hint', async () => {
    const { store, states } = setup();
    await states.save(undefined, { kind: 'user', id: 'u', owned: true, wecomId: 'u', status: 'synced', payloadHash: 'h' });
    const e = new PlatformError('dingtalk', 'topapi/v2/user/get', DINGTALK_ERR.userOutOfScope, 'out of scope', 'configuration');
    expect(await states.recordConfigurationProblem('user', 'u', e, 'widen the scope')).toMatchObject({
      result: 'failed',
      errcode: DINGTALK_ERR.userOutOfScope,
    });
    expect(await store.get('user', 'u')).toMatchObject({
      status: 'synced',
      payloadHash: 'h',
      lastErrcode: DINGTALK_ERR.userOutOfScope,
      lastError: 'widen the scope',
    });
  });

  it('records an entity it never knew as failed', async () => {
    const { store, states } = setup();
    const e = new PlatformError('dingtalk', 'topapi/v2/user/get', DINGTALK_ERR.userOutOfScope, 'out of scope', 'configuration');
    await states.recordConfigurationProblem('user', 'v', e, 'widen the scope');
    expect((await store.get('user', 'v'))?.status).toBe('failed');
  });
});

describe('what a claim names is kept until a saved result confirms it', () => {
  const intended = { wecomId: 'u', payload: { userid: 'u', name: 'U', department: [2] } };

  it('records what the create asks for, and keeps it through a retryable failure and a taken-over claim', async () => {
    const { states, clock } = setup();
    const claim = await states.claim('user', 'u', undefined, intended);
    expect(claim).toMatchObject({ status: 'pending', owned: false, claim: intended });
    await expect(states.onWriteError('user', 'u', claim, 'h', wecomError(WECOM_ERR.systemBusy, 'retryable'))).rejects.toThrow();
    const failed = await states.get('user', 'u');
    expect(failed).toMatchObject({ status: 'failed', claim: intended });
    expect(states.isFreshClaim(failed)).toBe(false);
    clock.t += 1;
    expect(await states.claim('user', 'u', failed)).toMatchObject({ status: 'pending', claim: intended });
  });

  it('keeps it through a permanent failure, unless the object it names is known not to be ours', async () => {
    const { states } = setup();
    const claim = await states.claim('user', 'u', undefined, intended);
    await states.recordPermanent('user', 'u', claim, { errcode: WECOM_ERR.mobileExists, message: 'taken', payloadHash: 'h' });
    const failed = await states.get('user', 'u');
    expect(failed).toMatchObject({ status: 'failed', claim: intended });
    await states.recordPermanent('user', 'u', failed, { errcode: WECOM_ERR.useridExists, message: 'someone else', payloadHash: 'h', dropClaim: true });
    expect((await states.get('user', 'u'))?.claim).toBeUndefined();
  });

  it('a saved result replaces it', async () => {
    const { states } = setup();
    const claim = await states.claim('user', 'u', undefined, intended);
    await states.save(claim, { kind: 'user', id: 'u', wecomId: 'u', owned: true, status: 'synced' });
    expect((await states.get('user', 'u'))?.claim).toBeUndefined();
  });
});
