/**
 * Contact release: a disabled leaver gives up the mobile and email a new person needs.
 *
 * Under SYNC_ON_LEAVE=disable a leaver stays a WeCom member and keeps their mobile and email,
 * which WeCom keeps unique (60104, 60106). A person rehired under a new DingTalk userid would then
 * fail on every run. So when WeCom refuses a write for a taken mobile or email, the sync looks for
 * the holder among the accounts it owns and has disabled, takes the contact detail off that
 * account, and writes again once. Enabled accounts and accounts the sync does not own are never
 * touched: for them the refusal stands and is recorded. An enabled account the sync owns remembers
 * who waited for its details (`contactWaiters`), and gives them their turn once it is disabled:
 * the two events may arrive in either order.
 *
 * WeCom needs a mobile or an email on every member (60129), so a leaver left with neither keeps
 * a placeholder address in the reserved `.invalid` domain, which can never reach anyone.
 * The release is recorded in the leaver's state (`releases`) and returned as a notice for the
 * reconcile's report.
 */
import { createHash } from 'node:crypto';
import { isPlatformError, PlatformError } from '../errors';
import type { Logger } from '../log';
import type { Clock, ContactRelease, DingTalkUser, EntityState, WeComDirectory, WeComUserPayload } from '../ports';
import { WECOM_ERR } from '../wecom/errors';
import { ConcurrentWriteError, type EntityStateBook } from './entity-state';
import { errorText } from './error-text';
import { MappingError, weComEmail, weComMobile } from './mapping';
import type { Notice, SyncOutcome } from './outcome';

/** The contact details a person's WeCom payload carries. */
export interface ContactNeed {
  mobile?: string;
  email?: string;
}

const PLACEHOLDER_DOMAIN = 'leavers.invalid';
const MAX_EMAIL_BYTES = 64;

/** WeCom's refusal of a mobile or an email another member holds. */
export function isContactTaken(e: unknown): boolean {
  return isPlatformError(e, WECOM_ERR.mobileExists) || isPlatformError(e, WECOM_ERR.emailExists);
}

/** WeCom treats `+86 138-0000-0000` and `+86 13800000000` as one mobile, and emails ignoring case. */
function mobileKey(mobile: string): string {
  return mobile.replace(/[^\d+]/g, '');
}

function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

/** The address a leaver keeps when it must give up its own: unique per userid, never deliverable. */
export function leaverPlaceholderEmail(userid: string): string {
  const plain = `${userid}@${PLACEHOLDER_DOMAIN}`;
  // Userids may hold '.', '@' and other characters that do not make a valid local part.
  if (/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(userid) && Buffer.byteLength(plain) <= MAX_EMAIL_BYTES) return plain;
  return `leaver-${createHash('sha256').update(userid.toLowerCase()).digest('hex').slice(0, 16)}@${PLACEHOLDER_DOMAIN}`;
}

/** A member the sync owns, in WeCom, with what it last wrote there. */
function ownsMember(state: EntityState | undefined): state is EntityState & { wecomId: string; payload: WeComUserPayload } {
  return !!state?.owned && !!state.wecomId && state.status !== 'deleted' && state.payload !== undefined;
}

/**
 * Whether a write for a member the sync owns must clear the placeholder address it may hold as a
 * leaver: DingTalk gives the person no email, a mobile is sent (WeCom refuses a member with
 * neither), and the record says a placeholder was given (in the last payload or a release), or
 * is not `synced`: a leaver coming back, or one whose last write is in doubt, may hold one the
 * record does not show (a release, or a write, whose answer was lost). It is cleared as a
 * released mobile is, sent empty; an old address DingTalk no longer gives goes with it.
 */
export function clearsLeaverPlaceholder(sending: Pick<WeComUserPayload, 'userid' | 'mobile' | 'email'>, record: EntityState | undefined): boolean {
  if (sending.email !== undefined || !sending.mobile || !record) return false;
  const placeholder = leaverPlaceholderEmail(sending.userid);
  return (
    record.status !== 'synced' ||
    (record.payload as WeComUserPayload | undefined)?.email === placeholder ||
    (record.releases ?? []).some((r) => r.placeholderEmail === placeholder)
  );
}

/** A leaver the sync may take contact details from: owned, in WeCom, and disabled there. */
export function mayRelease(state: EntityState | undefined): state is EntityState & { wecomId: string; payload: WeComUserPayload } {
  return !!state?.owned && !!state.wecomId && state.status === 'disabled' && state.payload !== undefined;
}

interface ReleasePlan {
  /** The `user/update` that gives the details up. */
  update: Partial<WeComUserPayload> & { userid: string };
  gave: ('mobile' | 'email')[];
  placeholderEmail?: string;
  /** The leaver's payload afterwards. */
  payload: WeComUserPayload;
}

/** What `leaver` must send to give up what `need` asks of it; undefined when it holds none of it. */
export function planRelease(leaver: { wecomId: string; payload: WeComUserPayload }, need: ContactNeed): ReleasePlan | undefined {
  const { payload } = leaver;
  const givesMobile = !!need.mobile && !!payload.mobile && mobileKey(payload.mobile) === mobileKey(need.mobile);
  const givesEmail = !!need.email && !!payload.email && emailKey(payload.email) === emailKey(need.email);
  if (!givesMobile && !givesEmail) return undefined;
  const keepsMobile = !!payload.mobile && !givesMobile;
  const keepsEmail = !!payload.email && !givesEmail;
  const update: ReleasePlan['update'] = { userid: leaver.wecomId };
  if (givesMobile) update.mobile = ''; // WeCom clears a field sent empty
  // An email is replaced rather than cleared: a member with neither is refused (60129).
  const placeholderEmail = givesEmail || (!keepsMobile && !keepsEmail) ? leaverPlaceholderEmail(leaver.wecomId) : undefined;
  if (placeholderEmail) update.email = placeholderEmail;
  const { mobile: _mobile, email: _email, ...rest } = payload;
  const after: WeComUserPayload = { ...rest };
  if (keepsMobile) after.mobile = payload.mobile;
  if (placeholderEmail ?? payload.email) after.email = placeholderEmail ?? payload.email;
  const gave: ReleasePlan['gave'] = [];
  if (givesMobile) gave.push('mobile');
  if (givesEmail) gave.push('email');
  return { update, gave, placeholderEmail, payload: after };
}

/** The mobile and email a DingTalk user will have in WeCom (none when the mapping would refuse them). */
export function contactsOf(user: DingTalkUser): ContactNeed {
  let mobile: string | undefined;
  try {
    mobile = weComMobile(user);
  } catch (e) {
    if (!(e instanceof MappingError)) throw e;
  }
  return { mobile, email: weComEmail(user) };
}

/** The disabled leavers the sync owns, by the contact details they hold: built once per plan. */
export type LeaverContacts = ReadonlyMap<string, readonly string[]>;

const contactKeys = (c: ContactNeed): string[] => [...(c.mobile ? [`mobile:${mobileKey(c.mobile)}`] : []), ...(c.email ? [`email:${emailKey(c.email)}`] : [])];

export function indexLeaverContacts(states: readonly EntityState[]): LeaverContacts {
  const index = new Map<string, string[]>();
  for (const s of states) {
    if (!mayRelease(s)) continue;
    for (const key of contactKeys(s.payload)) index.set(key, [...(index.get(key) ?? []), s.id]);
  }
  return index;
}

/**
 * For the reconcile's plan, which has every state at hand: the leavers `user` may need details
 * from, so the write never has to search the store for them.
 */
export function leaversHolding(user: DingTalkUser, leavers: LeaverContacts): string[] {
  const holders = contactKeys(contactsOf(user)).flatMap((key) => leavers.get(key) ?? []);
  return [...new Set(holders)].filter((id) => id !== user.userid);
}

export interface ContactReleaserDeps {
  wecom: Pick<WeComDirectory, 'updateUser'>;
  states: EntityStateBook;
  clock: Clock;
  logger?: Logger;
}

export class ContactReleaser {
  constructor(private readonly deps: ContactReleaserDeps) {}

  /**
   * Takes what `need` asks for off the disabled leavers the sync owns that hold it, for `to`.
   * `candidates`: the leavers to look at (the reconcile knows them); undefined searches the store,
   * and when nobody could give it up, the enabled members holding it remember `to` (`waitFor`).
   * Returns one notice per leaver that gave something up.
   */
  async release(to: string, need: ContactNeed, candidates?: readonly string[]): Promise<Notice[]> {
    const { states } = this.deps;
    if (candidates) return this.releaseFrom(to, need, await Promise.all(candidates.map((id) => states.get('user', id))));
    const holders = (await states.list('user')).filter((s) => s.id !== to && ownsMember(s) && planRelease(s, need));
    const notices = await this.releaseFrom(to, need, holders.filter(mayRelease));
    if (notices.length === 0)
      await this.waitFor(
        to,
        holders.filter((s) => s.status !== 'disabled'),
      );
    return notices;
  }

  /**
   * Nobody could give up what `to` needs, but members the sync owns hold it while still enabled (a
   * leaver whose own departure is not handled yet, say): each remembers `to`, who is synced again
   * when that member is disabled (user-sync.ts), rather than waiting for the next reconcile.
   */
  private async waitFor(to: string, holders: readonly EntityState[]): Promise<void> {
    for (const holder of holders) {
      if (holder.contactWaiters?.includes(to)) continue;
      await this.deps.states.save(holder, { ...holder, contactWaiters: [...(holder.contactWaiters ?? []), to] }).catch((e: unknown) => {
        // Written meanwhile: the next reconcile retries `to` anyway.
        if (!(e instanceof ConcurrentWriteError)) throw e;
      });
      this.deps.logger?.info('a person waits for contact details an enabled member holds', { holder: holder.id, waiting: to });
    }
  }

  /**
   * `holder` is disabled (or deleted) now, so it can give up its mobile and email: the people who
   * waited for them are written again, forced (their failure was recorded with the hash of what
   * they want). A retry that fails again is recorded on that person as usual; one that throws
   * stays on the list, for the holder's next sync or the next reconcile.
   */
  async retryWaiters(holder: string, syncUser: (userid: string, opts: { force: boolean }) => Promise<SyncOutcome>): Promise<void> {
    const { states, logger } = this.deps;
    const waiters = (await states.get('user', holder))?.contactWaiters ?? [];
    const done: string[] = [];
    for (const waiter of waiters) {
      try {
        const outcome = await syncUser(waiter, { force: true });
        logger?.info('user waiting for contact details synced again', { holder, userid: waiter, result: outcome.result });
        done.push(waiter);
      } catch (e) {
        logger?.warn('syncing a user waiting for contact details failed', { holder, userid: waiter, error: errorText(e) });
      }
    }
    if (done.length === 0) return;
    const after = await states.get('user', holder);
    if (!after) return;
    const left = (after.contactWaiters ?? []).filter((w) => !done.includes(w));
    await states.save(after, { ...after, contactWaiters: left.length ? left : undefined }).catch((e: unknown) => {
      if (!(e instanceof ConcurrentWriteError)) throw e;
    });
  }

  private async releaseFrom(to: string, need: ContactNeed, leavers: readonly (EntityState | undefined)[]): Promise<Notice[]> {
    const { states, wecom, clock, logger } = this.deps;
    const notices: Notice[] = [];
    for (const leaver of leavers) {
      if (!mayRelease(leaver) || leaver.id === to) continue;
      const plan = planRelease(leaver, need);
      if (!plan) continue;
      try {
        await wecom.updateUser(plan.update);
      } catch (e) {
        // This leaver cannot give it up (gone from WeCom, say): the write that needed it fails as WeCom says.
        if (!(e instanceof PlatformError && e.failure === 'permanent')) throw e;
        logger?.warn('a disabled leaver could not give up its contact details', { leaver: leaver.id, to, errcode: e.errcode, error: e.errmsg });
        continue;
      }
      const release: ContactRelease = { to, gave: plan.gave, placeholderEmail: plan.placeholderEmail, at: clock.now() };
      await states.save(leaver, { ...leaver, payload: plan.payload, releases: [...(leaver.releases ?? []), release] });
      const kept = plan.placeholderEmail ? ` (it keeps ${plan.placeholderEmail})` : '';
      const message = `disabled leaver ${leaver.id} gave up its ${plan.gave.join(' and ')} to ${to}${kept}`;
      logger?.info('contact details released', { leaver: leaver.id, to, gave: plan.gave });
      notices.push({ kind: 'user', id: leaver.id, message });
    }
    return notices;
  }
}
