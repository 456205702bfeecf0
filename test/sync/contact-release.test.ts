/**
 * Contact release: which leavers give up what, what they keep, and the release itself against a
 * recording WeCom stub and the embedded store.
 */
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../lib/errors';
import { FileStateStore } from '../../lib/local/file-store';
import type { EntityState, WeComUserPayload } from '../../lib/ports';
import {
  ContactReleaser,
  clearsLeaverPlaceholder,
  contactsOf,
  indexLeaverContacts,
  isContactTaken,
  leaverPlaceholderEmail,
  leaversHolding,
  mayRelease,
  planRelease,
} from '../../lib/sync/contact-release';
import { EntityStateBook } from '../../lib/sync/entity-state';
import { WECOM_ERR } from '../../lib/wecom/errors';

const payload = (over: Partial<WeComUserPayload> = {}): WeComUserPayload => ({
  userid: 'old',
  name: '旧',
  department: [1],
  mobile: '+86 13800000001',
  email: 'old@example.com',
  enable: 0,
  ...over,
});
const leaver = (over: Partial<EntityState> = {}): EntityState => ({
  kind: 'user',
  id: 'old',
  wecomId: 'old',
  owned: true,
  status: 'disabled',
  payload: payload(),
  updatedAt: 1,
  version: 1,
  ...over,
});

describe('what a leaver gives up and keeps', () => {
  it('gives the mobile and keeps its email', () => {
    expect(planRelease({ wecomId: 'old', payload: payload() }, { mobile: '+86 138-0000-0001' })).toEqual({
      update: { userid: 'old', mobile: '' },
      gave: ['mobile'],
      placeholderEmail: undefined,
      payload: payload({ mobile: undefined }),
    });
  });

  it('gives the email, keeping its mobile and a placeholder address', () => {
    const plan = planRelease({ wecomId: 'old', payload: payload() }, { email: 'OLD@example.com' });
    expect(plan).toMatchObject({
      update: { userid: 'old', email: 'old@leavers.invalid' },
      gave: ['email'],
      payload: { mobile: '+86 13800000001', email: 'old@leavers.invalid' },
    });
  });

  it('gives both and keeps a placeholder address, as WeCom needs one of the two (60129)', () => {
    const plan = planRelease({ wecomId: 'old', payload: payload() }, { mobile: '+86 13800000001', email: 'old@example.com' });
    expect(plan).toMatchObject({ update: { userid: 'old', mobile: '', email: 'old@leavers.invalid' }, gave: ['mobile', 'email'] });
    expect(plan?.payload).not.toHaveProperty('mobile');
  });

  it('gives its only contact, the mobile, and keeps a placeholder address', () => {
    const plan = planRelease({ wecomId: 'old', payload: payload({ email: undefined }) }, { mobile: '+86 13800000001' });
    expect(plan?.update).toEqual({ userid: 'old', mobile: '', email: 'old@leavers.invalid' });
  });

  it('holds nothing asked for: nothing to do', () => {
    expect(planRelease({ wecomId: 'old', payload: payload() }, { mobile: '+86 13900000000', email: 'new@example.com' })).toBeUndefined();
    expect(planRelease({ wecomId: 'old', payload: payload() }, {})).toBeUndefined();
  });

  it('placeholder addresses are valid, unique per userid and at most 64 bytes', () => {
    expect(leaverPlaceholderEmail('zhangsan')).toBe('zhangsan@leavers.invalid');
    const dotted = leaverPlaceholderEmail('zhang.san@corp');
    expect(dotted).toMatch(/^leaver-[0-9a-f]{16}@leavers\.invalid$/);
    expect(leaverPlaceholderEmail('Zhang.San@corp')).toBe(dotted); // userids are unique ignoring case
    expect(Buffer.byteLength(leaverPlaceholderEmail('a'.repeat(64)))).toBeLessThanOrEqual(64);
  });
});

describe('a rehire who may hold the placeholder address', () => {
  const gaveMobile = leaver({ payload: payload({ mobile: undefined, email: leaverPlaceholderEmail('old') }) });
  const back = { userid: 'old', mobile: '+86 13900000010' };
  it('has it cleared when DingTalk gives no email and a mobile is sent', () => {
    expect(clearsLeaverPlaceholder(back, gaveMobile)).toBe(true);
    expect(clearsLeaverPlaceholder(back, { ...gaveMobile, status: 'synced' })).toBe(true); // given, whatever came since
  });
  it('also when the record does not say so but the person is a disabled leaver coming back, or their last write is in doubt: a release or write whose answer was lost is not recorded', () => {
    expect(clearsLeaverPlaceholder(back, leaver())).toBe(true);
    expect(clearsLeaverPlaceholder(back, leaver({ status: 'failed' }))).toBe(true);
    const released = leaver({ status: 'synced', releases: [{ to: 'new', gave: ['mobile'], placeholderEmail: leaverPlaceholderEmail('old'), at: 1 }] });
    expect(clearsLeaverPlaceholder(back, released)).toBe(true);
  });
  it('keeps the email otherwise: an email of their own replaces it, without a mobile it is all they have, a member never given it keeps its own', () => {
    expect(clearsLeaverPlaceholder({ ...back, email: 'old@example.com' }, gaveMobile)).toBe(false);
    expect(clearsLeaverPlaceholder({ userid: 'old', email: undefined }, gaveMobile)).toBe(false);
    expect(clearsLeaverPlaceholder(back, leaver({ status: 'synced' }))).toBe(false);
    expect(clearsLeaverPlaceholder(back, undefined)).toBe(false);
  });
});

describe('who may give something up', () => {
  it('only a disabled leaver the sync owns; never an enabled, ignored, foreign or unknown account', () => {
    expect(mayRelease(leaver())).toBe(true);
    expect(mayRelease(leaver({ status: 'synced' }))).toBe(false);
    expect(mayRelease(leaver({ status: 'ignored' }))).toBe(false);
    expect(mayRelease(leaver({ owned: false }))).toBe(false);
    expect(mayRelease(leaver({ payload: undefined }))).toBe(false);
    expect(mayRelease(undefined)).toBe(false);
  });

  it('the plan finds the leavers holding a DingTalk user’s mobile or email', () => {
    const rehire = { userid: 'new', name: '新', mobile: '13800000001', dept_id_list: [2] };
    expect(contactsOf(rehire)).toEqual({ mobile: '+86 13800000001', email: undefined });
    expect(contactsOf({ ...rehire, mobile: 'not a number' })).toEqual({ mobile: undefined, email: undefined });
    const index = indexLeaverContacts([
      leaver(),
      leaver({ id: 'other', payload: payload({ mobile: '+86 13900000000', email: 'OLD@example.com' }) }),
      leaver({ id: 'active', status: 'synced' }),
    ]);
    expect(leaversHolding(rehire, index)).toEqual(['old']);
    expect(leaversHolding({ ...rehire, email: 'old@example.com' }, index)).toEqual(['old', 'other']);
    expect(leaversHolding({ ...rehire, userid: 'old' }, index)).toEqual([]); // never from oneself
    expect(leaversHolding({ ...rehire, mobile: undefined }, index)).toEqual([]);
  });

  it('only a taken mobile or email calls for it', () => {
    const refused = (errcode: number) => new PlatformError('wecom', 'user/create', errcode, 'refused', 'permanent');
    expect(isContactTaken(refused(WECOM_ERR.mobileExists))).toBe(true);
    expect(isContactTaken(refused(WECOM_ERR.emailExists))).toBe(true);
    expect(isContactTaken(refused(WECOM_ERR.useridExists))).toBe(false);
  });
});

describe('ContactReleaser', () => {
  function setup(updateUser: (p: Partial<WeComUserPayload>) => Promise<void> = async () => undefined) {
    const store = new FileStateStore(undefined);
    const clock = { now: () => 42 };
    const states = new EntityStateBook({ store, clock });
    const sent: Partial<WeComUserPayload>[] = [];
    const releaser = new ContactReleaser({
      wecom: {
        updateUser: async (p) => {
          sent.push(p);
          await updateUser(p);
        },
      },
      states,
      clock,
    });
    const put = async (s: EntityState) => {
      const { version: _v, ...rest } = s;
      await store.put(rest);
    };
    return { store, releaser, sent, put };
  }
  const need = { mobile: '+86 13800000001', email: 'old@example.com' };

  it('searches the store, frees the details, records the release on the leaver and says so', async () => {
    const { store, releaser, sent, put } = setup();
    await put(leaver());
    await put(leaver({ id: 'active', wecomId: 'active', status: 'synced' }));
    const notices = await releaser.release('new', need);
    expect(sent).toEqual([{ userid: 'old', mobile: '', email: 'old@leavers.invalid' }]);
    expect(notices).toEqual([
      { kind: 'user', id: 'old', message: expect.stringMatching(/old gave up its mobile and email to new \(it keeps old@leavers\.invalid\)/) },
    ]);
    expect(await store.get('user', 'old')).toMatchObject({
      status: 'disabled',
      payload: { email: 'old@leavers.invalid' },
      releases: [{ to: 'new', gave: ['mobile', 'email'], placeholderEmail: 'old@leavers.invalid', at: 42 }],
    });
    expect((await store.get('user', 'old'))?.payload).not.toHaveProperty('mobile');
  });

  it('with the candidates given, looks at them only, and still never at an enabled account', async () => {
    const { releaser, sent, put } = setup();
    await put(leaver({ id: 'active', wecomId: 'active', status: 'synced' }));
    await put(leaver());
    expect(await releaser.release('new', need, ['active'])).toEqual([]);
    expect(await releaser.release('new', need, [])).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('skips a leaver WeCom will not change (permanent error), and passes a retryable one on', async () => {
    const gone = setup(async () => {
      throw new PlatformError('wecom', 'user/update', WECOM_ERR.useridNotFound, 'userid not found', 'permanent');
    });
    await gone.put(leaver());
    expect(await gone.releaser.release('new', need)).toEqual([]);
    expect((await gone.store.get('user', 'old'))?.releases).toBeUndefined();

    const busy = setup(async () => {
      throw new PlatformError('wecom', 'user/update', WECOM_ERR.systemBusy, 'busy', 'retryable');
    });
    await busy.put(leaver());
    await expect(busy.releaser.release('new', need)).rejects.toMatchObject({ errcode: WECOM_ERR.systemBusy });
  });

  it('when nobody could give them up, the enabled members the sync owns that hold them remember who waits; never foreign ones', async () => {
    const { store, releaser, sent, put } = setup();
    await put(leaver({ id: 'active', wecomId: 'active', status: 'synced' }));
    await put(leaver({ id: 'foreign', wecomId: 'foreign', status: 'synced', owned: false }));
    expect(await releaser.release('new', need)).toEqual([]);
    expect(await releaser.release('new', need)).toEqual([]); // remembered once
    expect(await releaser.release('newer', need, ['active'])).toEqual([]); // the reconcile's candidates: nothing remembered
    expect(sent).toEqual([]);
    expect((await store.get('user', 'active'))?.contactWaiters).toEqual(['new']);
    expect((await store.get('user', 'foreign'))?.contactWaiters).toBeUndefined();
  });

  it('once the holder is disabled, writes the people who waited again, forced; one whose sync throws stays for the next try', async () => {
    const { store, releaser, put } = setup();
    await put(leaver({ contactWaiters: ['new', 'busy'] }));
    const synced: string[] = [];
    await releaser.retryWaiters('old', async (userid, opts) => {
      if (userid === 'busy') throw new PlatformError('wecom', 'user/create', WECOM_ERR.systemBusy, 'busy', 'retryable');
      synced.push(`${userid} ${JSON.stringify(opts)}`);
      return { kind: 'user', id: userid, result: 'created' };
    });
    expect(synced).toEqual(['new {"force":true}']);
    expect((await store.get('user', 'old'))?.contactWaiters).toEqual(['busy']);
  });
});
