/**
 * Creating a department whose id WeCom assigns, against the WeCom simulator over HTTP and the
 * embedded store: the claim's record of the parent's children, and how a retry finds the
 * department a create whose answer lost its id made — or refuses to guess.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ERRCODE_PROTOCOL, PlatformError } from '../../lib/errors';
import { FileStateStore } from '../../lib/local/file-store';
import type { EntityState } from '../../lib/ports';
import { WeComSimulator } from '../../lib/sandbox/wecom-sim';
import { createWithAssignedId } from '../../lib/sync/assigned-dept-create';
import { EntityStateBook } from '../../lib/sync/entity-state';
import { resetWeComTokenCache, WeComApi } from '../../lib/wecom/api';
import { WECOM_ERR } from '../../lib/wecom/errors';

let wc: WeComSimulator | undefined;
afterEach(async () => {
  await wc?.stop();
  wc = undefined;
  resetWeComTokenCache();
});

const PAYLOAD = { name: '大号部门', parentid: 1, order: 3 };
/** What the simulator answers `department/create` with when the answer lost its id. */
const withoutId = ({ id: _lost, ...answer }: Record<string, unknown>) => answer;

async function setup() {
  wc = new WeComSimulator({ rateLimitPerMinute: null });
  const wecom = new WeComApi({ corpId: wc.corpId, secret: wc.contactSecret, baseUrl: await wc.start() });
  const store = new FileStateStore(undefined);
  const clock = { t: 1_000_000, now: () => clock.t };
  const states = new EntityStateBook({ store, clock });
  const sim = wc;
  /** Takes the claim a worker takes before creating department `id`, from what the store holds. */
  const claim = async (id = '3000000000') => ({ state: await states.claim('dept', id, await store.get('dept', id)) });
  /** What onWriteError leaves after a retryable failure: the claim released, its record kept. */
  const release = (c: { state: EntityState }) => {
    const { version, ...rest } = c.state;
    return store.put({ ...rest, status: 'failed', lastError: 'creation interrupted' }, { ifVersion: version });
  };
  const create = (c: { state: EntityState }, payload = PAYLOAD) => createWithAssignedId({ wecom, states }, c, payload);
  const named = (name = PAYLOAD.name) => sim.listDepts().filter((d) => d.name === name);
  return { wc: sim, store, states, claim, release, create, named };
}

describe('a create whose id WeCom assigns', () => {
  it("records the parent's children in the claim before the first try, and returns the id WeCom gave", async () => {
    const { wc, claim, create, named } = await setup();
    wc.seedDept({ id: 5000, name: '手工部门', parentid: 1 });
    const c = await claim();
    const id = await create(c);
    expect(named()).toEqual([expect.objectContaining({ id, parentid: 1, order: 3 })]);
    expect(c.state).toMatchObject({ status: 'pending', creating: { parentid: 1, childIds: [5000] } });
  });

  it('finds on the retry the department a create whose answer lost the id made, and brings it up to date', async () => {
    const { wc, store, claim, release, create, named } = await setup();
    wc.seedDept({ id: 5000, name: '手工部门', parentid: 1 });
    wc.rewriteNext('department/create', withoutId);
    const first = await claim();
    const e = await create(first).catch((err: unknown) => err);
    expect(e).toMatchObject({ errcode: ERRCODE_PROTOCOL, failure: 'retryable' });
    const made = named()[0]!.id;
    await release(first);

    const retry = await claim();
    expect(retry.state.creating).toEqual({ parentid: 1, name: PAYLOAD.name, childIds: [5000] }); // the first try's, not one taken now
    expect(await create(retry, { ...PAYLOAD, order: 9 })).toBe(made);
    expect(named()).toEqual([expect.objectContaining({ id: made, order: 9 })]);
    expect(wc.calls['department/create']).toBe(2);
    expect((await store.get('dept', '3000000000'))?.creating).toEqual({ parentid: 1, name: PAYLOAD.name, childIds: [5000] });
  });

  it('leaves out children some record of the store holds: another department created meanwhile', async () => {
    const { wc, store, claim, release, create, named } = await setup();
    wc.rewriteNext('department/create', withoutId);
    const first = await claim();
    await create(first).catch(() => undefined);
    await release(first);
    const other = wc.seedDept({ name: '别的部门', parentid: 1 });
    await store.put({ kind: 'dept', id: '4000000000', wecomId: String(other), owned: true, status: 'synced', updatedAt: 1 });

    expect(await create(await claim())).toBe(named()[0]!.id);
  });

  it('keeps a 60008 permanent when no unknown child appeared: a sibling that was there holds the name', async () => {
    const { wc, claim, create, named } = await setup();
    wc.seedDept({ id: 5000, name: PAYLOAD.name, parentid: 1 });
    const e = await create(await claim()).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(PlatformError);
    expect(e).toMatchObject({ errcode: WECOM_ERR.deptExists, failure: 'permanent' });
    expect(named()).toEqual([expect.objectContaining({ id: 5000, order: 0 })]); // not touched
  });

  it('takes none when several unknown children appeared since the first try, and says why', async () => {
    const { wc, claim, release, create, named } = await setup();
    wc.rewriteNext('department/create', withoutId);
    const first = await claim();
    await create(first).catch(() => undefined);
    await release(first);
    const handMade = wc.seedDept({ name: '手工部门', parentid: 1 });

    const e = await create(await claim()).catch((err: unknown) => err);
    expect(e).toMatchObject({ errcode: WECOM_ERR.deptExists, failure: 'permanent' });
    expect((e as PlatformError).errmsg).toContain(`departments ${named()[0]!.id}, ${handMade} appeared under 1`);
    expect(wc.calls['department/update'] ?? 0).toBe(0);
  });

  it('takes a new record of the children when the parent changed since the first try', async () => {
    const { wc, claim, release, create } = await setup();
    const parent = wc.seedDept({ name: '上级', parentid: 1 });
    wc.failNext('department/create', WECOM_ERR.systemBusy);
    const first = await claim();
    await create(first).catch(() => undefined);
    await release(first);

    const retry = await claim();
    const id = await create(retry, { ...PAYLOAD, parentid: parent });
    expect(retry.state.creating).toEqual({ parentid: parent, name: PAYLOAD.name, childIds: [] });
    expect(wc.getDept(id)).toMatchObject({ parentid: parent });
  });

  it('a try in doubt for another parent or name (the department moved or was renamed since) is finished where it was asked, then moved: one copy', async () => {
    const { wc, claim, release, create, named } = await setup();
    const parent = wc.seedDept({ name: '上级', parentid: 1 });
    wc.rewriteNext('department/create', withoutId); // made under 1, answer lost
    const first = await claim();
    await expect(create(first)).rejects.toMatchObject({ errcode: ERRCODE_PROTOCOL });
    await release(first);

    const id = await create(await claim(), { ...PAYLOAD, name: '新名字', parentid: parent });
    expect(named()).toEqual([]);
    expect(wc.listDepts().filter((d) => d.name === '新名字')).toEqual([expect.objectContaining({ id, parentid: parent })]);
  });

  it('a try in doubt that made nothing: the old name is taken under the old parent now, and moved; a name already there before is not taken', async () => {
    const { wc, claim, create, named } = await setup();
    const parent = wc.seedDept({ name: '上级', parentid: 1 });
    // The worker died before its try reached WeCom: the snapshot stays, in doubt.
    const first = await claim();
    first.state = { ...first.state, creating: { parentid: 1, name: PAYLOAD.name, childIds: [parent] } };
    const id = await create(first, { ...PAYLOAD, parentid: parent });
    expect(named()).toEqual([expect.objectContaining({ id, parentid: parent })]);

    // A sibling of that name that was there before the snapshot is someone else's: left alone.
    const { wc: wc2, claim: claim2, create: create2, named: named2 } = await setup();
    const parent2 = wc2.seedDept({ name: '上级', parentid: 1 });
    const handMade = wc2.seedDept({ name: PAYLOAD.name, parentid: 1 });
    const second = await claim2();
    second.state = { ...second.state, creating: { parentid: 1, name: PAYLOAD.name, childIds: [parent2, handMade] } };
    const id2 = await create2(second, { ...PAYLOAD, parentid: parent2 });
    expect(named2()).toEqual([expect.objectContaining({ id: handMade, parentid: 1 }), expect.objectContaining({ id: id2, parentid: parent2 })]);
  });

  it('drops the record of the children after a try WeCom refused: a department made by hand before the retry is never taken', async () => {
    const { wc, store, claim, release, create, named } = await setup();
    wc.failNext('department/create', WECOM_ERR.systemBusy); // an answer: nothing was created
    const first = await claim();
    await expect(create(first)).rejects.toMatchObject({ errcode: WECOM_ERR.systemBusy, refused: true });
    expect(first.state.creating).toBeUndefined();
    await release(first);
    expect((await store.get('dept', '3000000000'))?.creating).toBeUndefined();
    const handMade = wc.seedDept({ name: PAYLOAD.name, parentid: 1 });

    await expect(create(await claim())).rejects.toMatchObject({ errcode: WECOM_ERR.deptExists });
    expect(named()).toEqual([expect.objectContaining({ id: handMade, order: 0 })]); // not touched
  });

  it('keeps the record of the children through a refused retry when an earlier try’s outcome is unknown', async () => {
    const { wc, claim, release, create, named } = await setup();
    wc.rewriteNext('department/create', withoutId); // made, answer lost
    const first = await claim();
    await create(first).catch(() => undefined);
    await release(first);
    wc.failNext('department/create', WECOM_ERR.systemBusy);
    const second = await claim();
    await create(second).catch(() => undefined);
    expect(second.state.creating).toEqual({ parentid: 1, name: PAYLOAD.name, childIds: [] });
    await release(second);

    expect(await create(await claim())).toBe(named()[0]!.id);
  });
});
