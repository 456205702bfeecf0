/**
 * The seeded fault policy (lib/sandbox/random-faults.ts) on its own, then plugged into the WeCom
 * simulator over real HTTP: what each picked fault does to a call, and that a timeout after the
 * fact leaves the change in place.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultCall, InjectedFault } from '../../lib/sandbox/faults';
import { labelOf, randomFaults, WECOM_TRANSIENT_FAULTS } from '../../lib/sandbox/random-faults';
import { WeComSimulator } from '../../lib/sandbox/wecom-sim';
import { WECOM_ERR } from '../../lib/wecom/errors';

const call = (n: number, api = 'user/update'): FaultCall => ({ api, query: new URLSearchParams(), body: JSON.stringify({ userid: `u${n}` }) });
const calls = (count: number, api?: string) => Array.from({ length: count }, (_, n) => call(n, api));

describe('randomFaults', () => {
  it('fails about the asked share of calls, with every fault of the list', () => {
    const faults = randomFaults({ seed: 42, rate: 0.2, faults: WECOM_TRANSIENT_FAULTS });
    const picked = calls(6000).map((c) => faults.policy(c));
    const share = picked.filter(Boolean).length / picked.length;
    expect(share).toBeGreaterThan(0.18);
    expect(share).toBeLessThan(0.22);
    expect(Object.keys(faults.injected).sort()).toEqual(WECOM_TRANSIENT_FAULTS.map(labelOf).sort());
    expect(Object.values(faults.injected).reduce((a, b) => a + b, 0)).toBe(picked.filter(Boolean).length);
    expect(faults.calls).toBe(6000);
  });

  it('gives each call the same fault whatever order the calls come in', () => {
    const list = calls(500);
    const inOrder = randomFaults({ seed: 7, rate: 0.2, faults: WECOM_TRANSIENT_FAULTS });
    const reversed = randomFaults({ seed: 7, rate: 0.2, faults: WECOM_TRANSIENT_FAULTS });
    const a = list.map((c) => inOrder.policy(c));
    const b = [...list]
      .reverse()
      .map((c) => reversed.policy(c))
      .reverse();
    expect(b).toEqual(a);
  });

  it('draws again for a call seen before, and differently for another seed', () => {
    const same = Array.from({ length: 200 }, () => call(1));
    const faults = randomFaults({ seed: 1, rate: 0.5, faults: [{ kind: 'drop' }] });
    const draws = same.map((c) => faults.policy(c) !== undefined);
    expect(draws).toContain(true);
    expect(draws).toContain(false);
    const other = randomFaults({ seed: 2, rate: 0.5, faults: [{ kind: 'drop' }] });
    expect(same.map((c) => other.policy(c) !== undefined)).not.toEqual(draws);
  });

  it('spares gettoken by default, and only the chosen APIs when told', () => {
    const byDefault = randomFaults({ seed: 3, rate: 1, faults: [{ kind: 'drop' }] });
    expect(calls(50, 'gettoken').every((c) => byDefault.policy(c) === undefined)).toBe(true);
    expect(byDefault.policy(call(1))).toEqual({ kind: 'drop' });
    const chosen = randomFaults({ seed: 3, rate: 1, faults: [{ kind: 'drop' }], apis: (api) => api === 'user/create' });
    expect(chosen.policy(call(1, 'user/update'))).toBeUndefined();
    expect(chosen.policy(call(1, 'user/create'))).toEqual({ kind: 'drop' });
  });

  it('injects nothing at rate 0', () => {
    const faults = randomFaults({ seed: 3, rate: 0, faults: [] });
    expect(calls(100).some((c) => faults.policy(c) !== undefined)).toBe(false);
  });

  it('refuses a rate outside 0…1, and a rate without faults to pick from', () => {
    expect(() => randomFaults({ seed: 1, rate: 1.5, faults: WECOM_TRANSIENT_FAULTS })).toThrow(RangeError);
    expect(() => randomFaults({ seed: 1, rate: -0.1, faults: WECOM_TRANSIENT_FAULTS })).toThrow(RangeError);
    expect(() => randomFaults({ seed: 1, rate: Number.NaN, faults: WECOM_TRANSIENT_FAULTS })).toThrow(RangeError);
    expect(() => randomFaults({ seed: 1, rate: 0.2, faults: [] })).toThrow(RangeError);
  });
});

describe('a fault policy in the WeCom simulator', () => {
  let sim: WeComSimulator | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function start(): Promise<{ create: (userid: string) => Promise<Response>; seenBy: FaultCall[] }> {
    sim = new WeComSimulator();
    const base = `${await sim.start()}/cgi-bin`;
    const tokenAnswer = (await (await fetch(`${base}/gettoken?corpid=${sim.corpId}&corpsecret=${sim.contactSecret}`)).json()) as { access_token: string };
    const seenBy: FaultCall[] = [];
    const create = (userid: string) =>
      fetch(`${base}/user/create?access_token=${tokenAnswer.access_token}`, {
        method: 'POST',
        body: JSON.stringify({ userid, name: 'N', department: [1], email: `${userid}@example.com`, to_invite: false }),
      });
    return { create, seenBy };
  }

  const always = (fault: InjectedFault, seenBy?: FaultCall[]) => (c: FaultCall) => {
    seenBy?.push(c);
    return c.api === 'user/create' ? fault : undefined;
  };

  it('answers the picked errcode or HTTP status without running the API', async () => {
    const { create } = await start();
    sim!.setFaultPolicy(always({ kind: 'errcode', errcode: WECOM_ERR.rateLimited }));
    expect(((await (await create('a1')).json()) as { errcode: number }).errcode).toBe(WECOM_ERR.rateLimited);
    sim!.setFaultPolicy(always({ kind: 'http', status: 503 }));
    expect((await create('a1')).status).toBe(503);
    expect(sim!.getUser('a1')).toBeUndefined();
  });

  it('drop loses the call before it acts; dropAfter acts, then loses the answer', async () => {
    const { create } = await start();
    sim!.setFaultPolicy(always({ kind: 'drop' }));
    await expect(create('b1')).rejects.toThrow();
    expect(sim!.getUser('b1')).toBeUndefined();
    sim!.setFaultPolicy(always({ kind: 'dropAfter' }));
    await expect(create('b1')).rejects.toThrow();
    expect(sim!.getUser('b1')).toMatchObject({ userid: 'b1', enable: 1 });
  });

  it('sees the call without its access token; queued faults come first; clearFaults removes the policy', async () => {
    const { create, seenBy } = await start();
    sim!.setFaultPolicy(always({ kind: 'errcode', errcode: WECOM_ERR.systemBusy }, seenBy));
    sim!.failNext('user/create', WECOM_ERR.tooManyConcurrent);
    expect(((await (await create('c1')).json()) as { errcode: number }).errcode).toBe(WECOM_ERR.tooManyConcurrent);
    expect(seenBy).toEqual([]); // the queued fault claimed the call
    expect(((await (await create('c1')).json()) as { errcode: number }).errcode).toBe(WECOM_ERR.systemBusy);
    expect(seenBy).toHaveLength(1);
    expect(seenBy[0]!.query.has('access_token')).toBe(false);
    expect(JSON.parse(seenBy[0]!.body)).toMatchObject({ userid: 'c1' });
    sim!.clearFaults();
    expect(((await (await create('c1')).json()) as { errcode: number }).errcode).toBe(0);
  });

  it('dropNextAfterApplying queues the same after-the-fact timeout', async () => {
    const { create } = await start();
    sim!.dropNextAfterApplying('user/create');
    await expect(create('d1')).rejects.toThrow();
    expect(sim!.getUser('d1')).toBeDefined();
    expect(((await (await create('d2')).json()) as { errcode: number }).errcode).toBe(0);
  });
});
