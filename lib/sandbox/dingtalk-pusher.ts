/**
 * How the DingTalk simulator tells a receiver about a contact event, as DingTalk does: the event
 * (envelope A) encrypted and signed with the receiver's token and AES key, POSTed to the callback
 * URL, retried after each failed attempt, and listed as failed once the retries are used up. Only
 * an encrypted, signed `success` reply counts as delivered (lib/dingtalk/push.ts judges it).
 */
import { decodeAesKey } from '../dingtalk/crypto';
import { judgeReply, signedRequest } from '../dingtalk/push';
import type { Clock } from '../ports';
import { withRetries } from '../retry';
import type { FailedPush, FailedPushList } from './dingtalk-failed-pushes';

/** Where HR actions are pushed, and the secrets DingTalk shares with that receiver. */
export interface CallbackTarget {
  url: string;
  token: string;
  /** The 43-character EncodingAESKey. */
  aesKey: string;
  /** Trailer of every encrypted frame: the AppKey (default), CorpId or suiteKey. */
  ownerKey?: string;
}

export interface PushEventOptions {
  userIds?: string[];
  deptIds?: number[];
  optStaffId?: string;
  /** Send DeptId entries as numeric strings, which DingTalk also does. */
  deptIdsAsStrings?: boolean;
}

/** How one event's delivery ended, after any retries. */
export interface PushOutcome {
  eventType: string;
  userIds: string[];
  deptIds: number[];
  delivered: boolean;
  attempts: number;
  /** One line per failed attempt: what was wrong with the receiver's answer. */
  errors: string[];
}

/** What a push reads from its simulator when it needs it: tests change these at any time. */
interface PushSettings {
  /** Wait before each retry, counted from the previous attempt. */
  retryDelaysMs: readonly number[];
  /** How long a receiver may take to answer one attempt. */
  timeoutMs: number;
  /** Aborted when the simulator stops: pending waits and attempts end, nothing more is listed. */
  lifetime: AbortSignal;
}

export interface DingTalkPusherOptions {
  clock: Clock;
  corpId: string;
  /** ownerKey of a callback target that names none: the app key. */
  defaultOwnerKey: string;
  /** Where events go that no retry could deliver. */
  failed: FailedPushList;
  settings(): PushSettings;
}

type Target = CallbackTarget & { ownerKey: string };

export class DingTalkPusher {
  /** Every finished push, in order of completion. */
  readonly outcomes: PushOutcome[] = [];
  private callback: Target | undefined;
  private readonly inFlight = new Set<Promise<PushOutcome>>();

  constructor(private readonly opts: DingTalkPusherOptions) {}

  /** Where events are pushed from now on; undefined stops pushing. */
  setCallback(target: CallbackTarget | undefined): void {
    if (!target) {
      this.callback = undefined;
      return;
    }
    decodeAesKey(target.aesKey); // a bad key fails here, not inside a background push
    this.callback = { ...target, ownerKey: target.ownerKey ?? this.opts.defaultOwnerKey };
  }

  /** Whether a callback target is set: without one, HR actions push nothing. */
  get hasCallback(): boolean {
    return this.callback !== undefined;
  }

  /**
   * Pushes one contact event (envelope A: `EventType`, `CorpId`, `UserId[]` / `DeptId[]`,
   * `OptStaffId`, `TimeStamp` as a string of ms) and resolves once it is delivered or, after
   * the retries, recorded in the failed list. Never rejects; throws at once without a callback.
   */
  pushEvent(eventType: string, opts: PushEventOptions = {}): Promise<PushOutcome> {
    const userIds = opts.userIds ?? [];
    const deptIds = opts.deptIds ?? [];
    const eventTime = this.opts.clock.now();
    const event: Record<string, unknown> = { EventType: eventType, CorpId: this.opts.corpId };
    if (userIds.length > 0) event.UserId = userIds;
    if (deptIds.length > 0) event.DeptId = opts.deptIdsAsStrings ? deptIds.map(String) : deptIds;
    if (opts.optStaffId) event.OptStaffId = opts.optStaffId;
    event.TimeStamp = String(eventTime);
    return this.track(JSON.stringify(event), { eventType, eventTime, userIds, deptIds }, true);
  }

  /** Pushes the URL check DingTalk sends when the callback URL is saved; never listed as failed. */
  checkUrl(): Promise<PushOutcome> {
    return this.track(
      JSON.stringify({ EventType: 'check_url' }),
      { eventType: 'check_url', eventTime: this.opts.clock.now(), userIds: [], deptIds: [] },
      false,
    );
  }

  /** Resolves when every push in flight, retries included, has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private track(plaintext: string, event: FailedPush, listWhenFailed: boolean): Promise<PushOutcome> {
    const callback = this.callback;
    if (!callback) throw new Error('no callback configured: call setCallback first');
    const promise = this.deliver(callback, plaintext, event, listWhenFailed).finally(() => this.inFlight.delete(promise));
    this.inFlight.add(promise);
    return promise;
  }

  private async deliver(target: Target, plaintext: string, event: FailedPush, listWhenFailed: boolean): Promise<PushOutcome> {
    const { settings } = this.opts;
    const lifetime = settings().lifetime;
    const errors: string[] = [];
    let delivered = true;
    try {
      await withRetries(
        {
          // Read at each retry, as the simulator's `retryDelaysMs` may change while a push waits.
          get delaysMs() {
            return settings().retryDelaysMs;
          },
          retryable: () => true,
          signal: lifetime,
        },
        async () => {
          const error = await this.attempt(target, plaintext, lifetime);
          if (error === undefined) return;
          errors.push(error);
          throw new Error(error);
        },
      );
    } catch {
      delivered = false;
    }
    // A stopped simulator is a DingTalk that went away, not one that gave up on the receiver.
    if (!delivered && listWhenFailed && !lifetime.aborted) this.opts.failed.record(event);
    const outcome: PushOutcome = {
      eventType: event.eventType,
      userIds: event.userIds,
      deptIds: event.deptIds,
      delivered,
      attempts: errors.length + (delivered ? 1 : 0),
      errors,
    };
    this.outcomes.push(outcome);
    return outcome;
  }

  /** One POST to the receiver; undefined when the reply is DingTalk's idea of success, else why not. */
  private async attempt(target: Target, plaintext: string, lifetime: AbortSignal): Promise<string | undefined> {
    // A fresh timestamp and 8-character nonce per attempt, both signature names (lib/dingtalk/push).
    const { query, body } = signedRequest(plaintext, target, String(this.opts.clock.now()));
    const url = new URL(target.url);
    for (const [k, v] of query) url.searchParams.set(k, v);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.any([lifetime, AbortSignal.timeout(this.opts.settings().timeoutMs)]),
      });
      return judgeReply(res.status, await res.text(), target);
    } catch (e) {
      return `no answer: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
}
