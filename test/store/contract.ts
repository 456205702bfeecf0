/**
 * The StateStore contract (lib/ports.ts), run against every implementation: the DynamoDB store on
 * dynalite and the embedded file store. Each test gets a fresh, empty store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ChangeMessage,
  type EntityState,
  type OutboxRecord,
  type RunReport,
  StaleStateError,
  type StateStore,
  type WeComUserPayload,
} from '../../lib/ports';

export interface StoreUnderTest {
  store: StateStore;
  cleanup?: () => Promise<void>;
}

type NewState = Omit<EntityState, 'version'>;

export function userState(id: string, over: Partial<NewState> = {}): NewState {
  return { kind: 'user', id, owned: true, status: 'synced', updatedAt: 1_700_000_000_000, ...over };
}

export function userPayload(userid: string, filler = ''): WeComUserPayload {
  return {
    userid,
    name: '张三',
    department: [1, 3000],
    order: [0, 4294967295],
    is_leader_in_dept: [0, 1],
    mobile: '+86 13800000000',
    position: filler,
    telephone: '',
    direct_leader: [],
    enable: 1,
    to_invite: false,
  };
}

async function expectStale(promise: Promise<unknown>, kind: string, id: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StaleStateError);
  expect(err).toMatchObject({ kind, id });
}

/** Runs `fn` over `items` with at most `limit` in flight (enough to be quick, not enough to flood). */
async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += limit) await Promise.all(items.slice(i, i + limit).map(fn));
}

export function stateStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`StateStore contract: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    const fresh = async (): Promise<StateStore> => {
      current = await makeStore();
      return current.store;
    };
    afterEach(async () => {
      await current?.cleanup?.();
      current = undefined;
    });

    describe('entities', () => {
      it('returns undefined for an entity never written', async () => {
        const store = await fresh();
        expect(await store.get('user', 'nobody')).toBeUndefined();
        expect(await store.get('dept', '42')).toBeUndefined();
      });

      it('round-trips a record with every optional field, payloads included', async () => {
        const store = await fresh();
        const user: NewState = userState('zhangsan', {
          wecomId: 'zhangsan',
          status: 'failed',
          payloadHash: 'a'.repeat(64),
          payload: userPayload('zhangsan'),
          lastErrcode: 60104,
          lastError: 'user/create: mobile existed',
          claim: { wecomId: 'zhangsan', payload: userPayload('zhangsan') },
          releases: [{ to: 'zhangsan2', gave: ['mobile', 'email'], placeholderEmail: 'zhangsan@leavers.invalid', at: 9 }],
          blocking: ['5'],
        });
        const written = await store.put(user);
        expect(written).toEqual({ ...user, version: 1 });
        expect(await store.get('user', 'zhangsan')).toEqual({ ...user, version: 1 });

        const dept: NewState = {
          kind: 'dept',
          id: '42',
          wecomId: '42',
          owned: false,
          status: 'synced',
          updatedAt: 5,
          payload: { id: 42, name: '研发', parentid: 1, order: 7 },
          dingtalkParentId: 1,
          blockedBy: { users: ['handmade'], depts: [9000] },
          waitingUsers: ['zhangsan'],
        };
        await store.put(dept);
        expect(await store.get('dept', '42')).toEqual({ ...dept, version: 1 });

        const claim: NewState = {
          kind: 'dept',
          id: '3000000000',
          owned: false,
          status: 'pending',
          updatedAt: 6,
          creating: { parentid: 1, childIds: [2, 5000] },
        };
        await store.put(claim);
        expect(await store.get('dept', '3000000000')).toEqual({ ...claim, version: 1 });
      });

      it('round-trips a minimal record without inventing fields', async () => {
        const store = await fresh();
        await store.put(userState('u1'));
        const got = await store.get('user', 'u1');
        expect(got).toEqual({ ...userState('u1'), version: 1 });
        expect(Object.keys(got!).sort()).toEqual(['id', 'kind', 'owned', 'status', 'updatedAt', 'version']);
      });

      it('replaces the whole record: optional fields absent from a put are cleared', async () => {
        const store = await fresh();
        await store.put(
          userState('u1', {
            wecomId: 'u1',
            payloadHash: 'h',
            lastErrcode: 60104,
            lastError: 'mobile taken',
            payload: userPayload('u1'),
            creating: { parentid: 1, childIds: [] },
            claim: { wecomId: 'u1' },
            releases: [{ to: 'u2', gave: ['mobile'], at: 1 }],
          }),
        );
        await store.put(userState('u1', { wecomId: 'u1', status: 'disabled' }));
        const got = await store.get('user', 'u1');
        expect(got).toMatchObject({ wecomId: 'u1', status: 'disabled', version: 2 });
        for (const field of ['payloadHash', 'lastErrcode', 'lastError', 'payload', 'creating', 'claim', 'releases']) expect(got).not.toHaveProperty(field);
      });

      it('keeps users and departments with the same id apart', async () => {
        const store = await fresh();
        await store.put(userState('5', { wecomId: 'user-five' }));
        await store.put({ kind: 'dept', id: '5', wecomId: '5', owned: true, status: 'synced', updatedAt: 1 });
        expect((await store.get('user', '5'))?.wecomId).toBe('user-five');
        expect((await store.get('dept', '5'))?.wecomId).toBe('5');
        expect((await store.get('user', '5'))?.version).toBe(1);
      });

      it('increments the version on every put and ignores a version passed in', async () => {
        const store = await fresh();
        expect((await store.put(userState('u1'))).version).toBe(1);
        expect((await store.put(userState('u1'))).version).toBe(2);
        const sneaky = { ...userState('u1'), version: 99 } as NewState;
        expect((await store.put(sneaky)).version).toBe(3);
        expect((await store.get('user', 'u1'))?.version).toBe(3);
      });

      it('writes with ifVersion 0 only when the entity does not exist yet', async () => {
        const store = await fresh();
        expect((await store.put(userState('u1', { wecomId: 'first' }), { ifVersion: 0 })).version).toBe(1);
        await expectStale(store.put(userState('u1', { wecomId: 'second' }), { ifVersion: 0 }), 'user', 'u1');
        expect(await store.get('user', 'u1')).toMatchObject({ wecomId: 'first', version: 1 });
      });

      it('writes with ifVersion n only when the stored version is n', async () => {
        const store = await fresh();
        await store.put(userState('u1'));
        await store.put(userState('u1'));
        expect((await store.put(userState('u1', { status: 'disabled' }), { ifVersion: 2 })).version).toBe(3);
        await expectStale(store.put(userState('u1', { status: 'deleted' }), { ifVersion: 2 }), 'user', 'u1');
        await expectStale(store.put(userState('u1', { status: 'deleted' }), { ifVersion: 4 }), 'user', 'u1');
        expect(await store.get('user', 'u1')).toMatchObject({ status: 'disabled', version: 3 });
        await expectStale(store.put(userState('ghost'), { ifVersion: 1 }), 'user', 'ghost');
        expect(await store.get('user', 'ghost')).toBeUndefined();
      });

      it('lets exactly one of several concurrent creates (ifVersion 0) win', async () => {
        const store = await fresh();
        const workers = ['w1', 'w2', 'w3', 'w4', 'w5'];
        const results = await Promise.allSettled(workers.map((w) => store.put(userState('u1', { wecomId: w }), { ifVersion: 0 })));
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        for (const r of lost) expect(r.reason).toBeInstanceOf(StaleStateError);
        const winner = (won[0] as PromiseFulfilledResult<EntityState>).value;
        expect(await store.get('user', 'u1')).toEqual(winner);
        expect(winner.version).toBe(1);
      });

      it('lets exactly one of two concurrent updates of the same version win', async () => {
        const store = await fresh();
        await store.put(userState('u1'));
        const results = await Promise.allSettled([
          store.put(userState('u1', { status: 'disabled' }), { ifVersion: 1 }),
          store.put(userState('u1', { status: 'deleted' }), { ifVersion: 1 }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect((await store.get('user', 'u1'))?.version).toBe(2);
      });

      it('hands out copies: changing a returned record does not change the store', async () => {
        const store = await fresh();
        const written = await store.put(userState('u1', { payload: userPayload('u1') }));
        (written.payload as WeComUserPayload).department.push(999);
        const got = await store.get('user', 'u1');
        (got!.payload as WeComUserPayload).name = 'changed';
        const again = await store.get('user', 'u1');
        expect(again?.payload).toEqual(userPayload('u1'));
      });
    });

    describe('list', () => {
      it('returns nothing for an empty store', async () => {
        const store = await fresh();
        expect(await store.list('user')).toEqual([]);
      });

      it('returns every record of one kind, and only that kind, across more than 1 MB', { timeout: 120_000 }, async () => {
        const store = await fresh();
        // 1,500 users of ~1 KB each: more than one 1 MB DynamoDB scan page.
        const userIds = Array.from({ length: 1500 }, (_, i) => `user${String(i).padStart(5, '0')}`);
        await inBatches(userIds, 50, (id) => store.put(userState(id, { wecomId: id, payloadHash: id, payload: userPayload(id, `${id} `.repeat(80)) })));
        const deptIds = Array.from({ length: 30 }, (_, i) => String(i + 2));
        await inBatches(deptIds, 30, (id) => store.put({ kind: 'dept', id, wecomId: id, owned: true, status: 'synced', updatedAt: 1 }));
        await store.acquireLock('reconcile', 'me', 60_000, 0);
        await store.putReport(report('r1'));

        const users = await store.list('user');
        expect(users).toHaveLength(userIds.length);
        expect(users.map((u) => u.id).sort()).toEqual(userIds);
        expect(users.every((u) => u.kind === 'user' && u.version === 1)).toBe(true);
        const sample = users.find((u) => u.id === 'user00742');
        expect(sample?.payload).toEqual(userPayload('user00742', 'user00742 '.repeat(80)));

        const depts = await store.list('dept');
        expect(depts.map((d) => d.id).sort()).toEqual([...deptIds].sort());
        expect(depts.every((d) => d.kind === 'dept')).toBe(true);
      });
    });

    describe('awaitingLeader', () => {
      it('lists the synced users whose record withholds that manager, oldest first, and only them', async () => {
        const store = await fresh();
        expect(await store.awaitingLeader('boss')).toEqual([]);
        await store.put(userState('late', { leaderWithheld: 'boss', updatedAt: 3_000 }));
        await store.put(userState('early', { leaderWithheld: 'boss', updatedAt: 1_000 }));
        await store.put(userState('other', { leaderWithheld: 'boss2', updatedAt: 2_000 }));
        await store.put(userState('failed', { leaderWithheld: 'boss', status: 'failed', updatedAt: 2_000 }));
        await store.put(userState('disabled', { leaderWithheld: 'boss', status: 'disabled', updatedAt: 2_000 }));
        await store.put(userState('led', { updatedAt: 2_000 }));
        await store.put({ kind: 'dept', id: 'boss', owned: true, status: 'synced', updatedAt: 2_000 });
        expect(await store.awaitingLeader('boss')).toEqual(['early', 'late']);
        expect(await store.awaitingLeader('boss2')).toEqual(['other']);
      });

      it('forgets a user once a put no longer withholds that manager, or withholds another', async () => {
        const store = await fresh();
        const a = await store.put(userState('a', { leaderWithheld: 'boss' }));
        const b = await store.put(userState('b', { leaderWithheld: 'boss' }));
        await store.put(userState('a'), { ifVersion: a.version });
        await store.put(userState('b', { leaderWithheld: 'boss2' }), { ifVersion: b.version });
        expect(await store.awaitingLeader('boss')).toEqual([]);
        expect(await store.awaitingLeader('boss2')).toEqual(['b']);
        await store.put(userState('b', { leaderWithheld: 'boss2', status: 'failed' }));
        expect(await store.awaitingLeader('boss2')).toEqual([]);
      });
    });

    describe('locks', () => {
      it('refuses a second owner until the lock expires, then hands it over', async () => {
        const store = await fresh();
        expect(await store.acquireLock('reconcile', 'a', 1_000, 10_000)).toBe(true);
        expect(await store.acquireLock('reconcile', 'b', 1_000, 10_500)).toBe(false);
        expect(await store.acquireLock('reconcile', 'b', 1_000, 10_999)).toBe(false);
        expect(await store.acquireLock('reconcile', 'b', 1_000, 11_500)).toBe(true);
        expect(await store.acquireLock('reconcile', 'a', 1_000, 11_600)).toBe(false);
      });

      it('treats a lock as expired from its expiry time on', async () => {
        const store = await fresh();
        expect(await store.acquireLock('reconcile', 'a', 1_000, 10_000)).toBe(true);
        expect(await store.acquireLock('reconcile', 'b', 1_000, 11_000)).toBe(true);
      });

      it('lets the holder renew its own lock', async () => {
        const store = await fresh();
        expect(await store.acquireLock('reconcile', 'a', 1_000, 10_000)).toBe(true);
        expect(await store.acquireLock('reconcile', 'a', 1_000, 10_800)).toBe(true);
        // Renewed until 11,800: still held at 11,500.
        expect(await store.acquireLock('reconcile', 'b', 1_000, 11_500)).toBe(false);
      });

      it('keeps locks with different names apart', async () => {
        const store = await fresh();
        expect(await store.acquireLock('reconcile', 'a', 1_000, 0)).toBe(true);
        expect(await store.acquireLock('redrive', 'b', 1_000, 0)).toBe(true);
      });

      it('ignores a release by someone who does not hold the lock', async () => {
        const store = await fresh();
        await store.acquireLock('reconcile', 'a', 1_000, 10_000);
        await store.acquireLock('reconcile', 'b', 1_000, 11_500); // a's lock expired, b took over
        await store.releaseLock('reconcile', 'a');
        expect(await store.acquireLock('reconcile', 'c', 1_000, 11_600)).toBe(false);
        await store.releaseLock('never-taken', 'a'); // releasing a lock nobody holds is fine
      });

      it('is free again once released by its holder', async () => {
        const store = await fresh();
        await store.acquireLock('reconcile', 'a', 60_000, 10_000);
        await store.releaseLock('reconcile', 'a');
        expect(await store.acquireLock('reconcile', 'b', 60_000, 10_001)).toBe(true);
        expect(await store.acquireLock('reconcile', 'a', 60_000, 10_002)).toBe(false);
      });

      it('gives a free lock to exactly one of several concurrent takers', async () => {
        const store = await fresh();
        const results = await Promise.all(['a', 'b', 'c', 'd'].map((o) => store.acquireLock('reconcile', o, 60_000, 0)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('entity leases', () => {
      it('refuses a second owner until the lease expires (at its expiry time exactly), then hands it over', async () => {
        const store = await fresh();
        expect(await store.acquireLease('user', 'u1', 'worker', 1_000, 10_000)).toBe(true);
        expect(await store.acquireLease('user', 'u1', 'reconcile', 1_000, 10_999)).toBe(false);
        expect(await store.acquireLease('user', 'u1', 'reconcile', 1_000, 11_000)).toBe(true);
        expect(await store.acquireLease('user', 'u1', 'worker', 1_000, 11_500)).toBe(false);
      });

      it('lets the holder renew its own lease', async () => {
        const store = await fresh();
        expect(await store.acquireLease('dept', '7', 'a', 1_000, 10_000)).toBe(true);
        expect(await store.acquireLease('dept', '7', 'a', 1_000, 10_800)).toBe(true);
        expect(await store.acquireLease('dept', '7', 'b', 1_000, 11_500)).toBe(false);
      });

      it('keeps the leases of different entities, of users and departments, and of locks apart', async () => {
        const store = await fresh();
        expect(await store.acquireLease('user', '5', 'a', 60_000, 0)).toBe(true);
        expect(await store.acquireLease('dept', '5', 'b', 60_000, 0)).toBe(true);
        expect(await store.acquireLease('user', '6', 'c', 60_000, 0)).toBe(true);
        expect(await store.acquireLock('user#5', 'd', 60_000, 0)).toBe(true);
        expect(await store.acquireLease('user', '5', 'e', 60_000, 0)).toBe(false);
      });

      it('is free again once released by its holder, and ignores a release by anyone else', async () => {
        const store = await fresh();
        await store.acquireLease('user', 'u1', 'a', 1_000, 10_000);
        await store.acquireLease('user', 'u1', 'b', 1_000, 11_500); // a's lease expired, b took over
        await store.releaseLease('user', 'u1', 'a');
        expect(await store.acquireLease('user', 'u1', 'c', 1_000, 11_600)).toBe(false);
        await store.releaseLease('user', 'u1', 'b');
        expect(await store.acquireLease('user', 'u1', 'c', 1_000, 11_700)).toBe(true);
        await store.releaseLease('user', 'never-taken', 'a'); // releasing a lease nobody holds is fine
      });

      it('gives a free lease to exactly one of several concurrent takers', async () => {
        const store = await fresh();
        const results = await Promise.all(['a', 'b', 'c', 'd'].map((o) => store.acquireLease('user', 'u1', o, 60_000, 0)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('leaves the entity records alone: neither listed nor versioned', async () => {
        const store = await fresh();
        await store.put(userState('u1'));
        await store.acquireLease('user', 'u1', 'a', 60_000, 0);
        await store.acquireLease('user', 'u2', 'a', 60_000, 0);
        expect((await store.list('user')).map((u) => `${u.id} v${u.version}`)).toEqual(['u1 v1']);
        expect(await store.get('user', 'u2')).toBeUndefined();
      });
    });

    describe('outbox', () => {
      it('is empty at first, and deleting what is not there is fine', async () => {
        const store = await fresh();
        expect(await store.listOutbox()).toEqual([]);
        await store.deleteOutbox('nothing');
      });

      it('returns every record as written, oldest first, until it is deleted', async () => {
        const store = await fresh();
        const later = outboxRecord('b', 2_000, [message('user', 'u2'), { ...message('dept', '5'), eventId: 'evt-1' }]);
        const earlier = outboxRecord('z', 1_000, [message('user', 'u1')]);
        const tie = outboxRecord('a', 2_000, [message('user', 'u3')]);
        await store.putOutbox(later);
        await store.putOutbox(earlier);
        await store.putOutbox(tie);
        expect(await store.listOutbox()).toEqual([earlier, tie, later]);
        await store.deleteOutbox('b');
        expect(await store.listOutbox()).toEqual([earlier, tie]);
      });

      it('replaces a record written again under the same id', async () => {
        const store = await fresh();
        await store.putOutbox(outboxRecord('p', 1, [message('user', 'u1')]));
        await store.putOutbox(outboxRecord('p', 1, [message('user', 'u2')]));
        expect((await store.listOutbox()).map((r) => r.messages.map((m) => m.id))).toEqual([['u2']]);
      });

      it('holds a whole failed-push page of 500 messages in one record', async () => {
        const store = await fresh();
        const messages = Array.from({ length: 500 }, (_, i) => message('user', `user-${'x'.repeat(40)}-${i}`));
        await store.putOutbox(outboxRecord('big', 1, messages));
        expect((await store.listOutbox())[0]?.messages).toEqual(messages);
      });

      it('keeps its records out of the entity lists', async () => {
        const store = await fresh();
        await store.putOutbox(outboxRecord('p', 1, [message('user', 'u1')]));
        expect(await store.list('user')).toEqual([]);
        expect(await store.list('dept')).toEqual([]);
      });
    });

    describe('cursors', () => {
      it('has no cursor before the first save, then the value last saved', async () => {
        const store = await fresh();
        expect(await store.getCursor('detail-sweep')).toBeUndefined();
        await store.putCursor('detail-sweep', 'manager164');
        expect(await store.getCursor('detail-sweep')).toBe('manager164');
        await store.putCursor('detail-sweep', '0123456789012345678');
        expect(await store.getCursor('detail-sweep')).toBe('0123456789012345678');
      });

      it('keeps cursors with different names apart, and apart from locks, entities and the outbox', async () => {
        const store = await fresh();
        await store.putCursor('a', '1');
        await store.putCursor('b', '2');
        expect(await store.acquireLock('a', 'owner', 60_000, 0)).toBe(true);
        expect([await store.getCursor('a'), await store.getCursor('b')]).toEqual(['1', '2']);
        expect(await store.list('user')).toEqual([]);
        expect(await store.listOutbox()).toEqual([]);
      });

      it('keeps a value of any characters exactly, the empty string included', async () => {
        const store = await fresh();
        for (const value of ['', '张三-2169122037-1513149549', 'a#b cursor#x']) {
          await store.putCursor('sweep', value);
          expect(await store.getCursor('sweep')).toBe(value);
        }
      });
    });

    describe('reports', () => {
      it('has no report before the first run', async () => {
        const store = await fresh();
        expect(await store.latestReport()).toBeUndefined();
      });

      it('returns the latest report as written', async () => {
        const store = await fresh();
        await store.putReport(report('r1'));
        const second: RunReport = {
          ...report('r2'),
          status: 'partial',
          errors: [
            { kind: 'user', id: 'u1', op: 'create', errcode: 60104, message: 'mobile existed' },
            { kind: 'dept', id: '7', op: 'delete', message: 'has members' },
          ],
          message: 'two failures',
        };
        await store.putReport(second);
        expect(await store.latestReport()).toEqual(second);
      });

      it('keeps a report with thousands of long errors: the first of them, the totals, and a message saying so', async () => {
        const store = await fresh();
        const long = '手机号码已存在，请换一个手机号码再试。'.repeat(20);
        const errors = Array.from({ length: 5_000 }, (_, i) => ({
          kind: 'user' as const,
          id: `u${i}`,
          op: 'create_user',
          errcode: 60104,
          message: `${i} ${long}`,
        }));
        await store.putReport({ ...report('big'), status: 'partial', counts: { create_user: 0 }, errors, message: '5000 operations planned' });
        const saved = (await store.latestReport())!;
        expect(saved).toMatchObject({ runId: 'big', status: 'partial', counts: { create_user: 0 }, totals: { errors: 5_000, notices: 0 } });
        expect(saved.errors.length).toBeGreaterThan(10);
        expect(saved.errors.length).toBeLessThan(5_000);
        expect(saved.errors[0]).toEqual(errors[0]);
        expect(saved.message).toBe(
          `5000 operations planned; this report keeps the first ${saved.errors.length} of 5000 errors; its counts cover every operation`,
        );
      });
    });
  });
}

export function report(runId: string): RunReport {
  return {
    runId,
    startedAt: 1_700_000_000_000,
    finishedAt: 1_700_000_060_000,
    status: 'success',
    dryRun: false,
    counts: { created: 3, unchanged: 10_000 },
    errors: [],
  };
}

export function message(kind: ChangeMessage['kind'], id: string): ChangeMessage {
  return { kind, id, eventType: 'user_modify_org', eventTime: 1_700_000_000_000, corpId: 'ding-corp' };
}

export function outboxRecord(id: string, savedAt: number, messages: ChangeMessage[]): OutboxRecord {
  return { id, savedAt, messages };
}
