/**
 * A DingTalk stand-in for tests and for `npm start` without credentials: the read APIs the sync
 * uses served over real HTTP on 127.0.0.1 (dingtalk-http.ts), an in-memory organisation
 * (dingtalk-org.ts), and HR actions that change it and push the matching contact event to a
 * callback URL signed and encrypted exactly as DingTalk does (dingtalk-pusher.ts), with
 * DingTalk's retries and its failed-push list (dingtalk-failed-pushes.ts).
 *
 * This file is the simulator's public face: everything tests and the sandbox import.
 */
import type { DingTalkDept, DingTalkUser } from '../ports';
import { DingTalkHttpApi, type DingTalkHttpOptions } from './dingtalk-http';
import type { DeptInput, OrderInput, UserInput } from './dingtalk-org-input';
import { type CallbackTarget, DingTalkPusher, type PushEventOptions, type PushOutcome } from './dingtalk-pusher';

export { generateOrg } from './org-generator';
export type { CallbackTarget, DeptInput, OrderInput, PushEventOptions, PushOutcome, UserInput };

export interface MutationOptions {
  /** false: change the organisation without telling anyone, like a lost event. Default true. */
  push?: boolean;
  /** OptStaffId of the event; default the simulator's `optStaffId`. */
  optStaffId?: string;
}

export interface DingTalkSimulatorOptions extends DingTalkHttpOptions {
  /**
   * Wait before each retry of a failed push, counted from the previous attempt. Default
   * [10000, 20000]: retries at about +10 s and +30 s after the first push, as DingTalk does.
   */
  retryDelaysMs?: number[];
  /** How long a receiver may take to answer a push. Default 1500, DingTalk's documented deadline. */
  pushTimeoutMs?: number;
  /** OptStaffId of events pushed by HR actions. Default `manager0001`. */
  optStaffId?: string;
}

export class DingTalkSimulator extends DingTalkHttpApi {
  /** When false, HR actions change the organisation but push nothing (lost events). */
  pushEnabled = true;
  /** See DingTalkSimulatorOptions; may be changed at any time. */
  retryDelaysMs: number[];
  pushTimeoutMs: number;
  optStaffId: string;
  /** Every finished push, in order of completion. */
  readonly pushes: PushOutcome[];

  private readonly pusher: DingTalkPusher;

  constructor(opts: DingTalkSimulatorOptions = {}) {
    super(opts);
    this.retryDelaysMs = opts.retryDelaysMs ?? [10_000, 20_000];
    this.pushTimeoutMs = opts.pushTimeoutMs ?? 1500;
    this.optStaffId = opts.optStaffId ?? 'manager0001';
    this.pusher = new DingTalkPusher({
      clock: this.clock,
      corpId: this.corpId,
      defaultOwnerKey: this.appKey,
      failed: this.failedPushes,
      settings: () => ({ retryDelaysMs: this.retryDelaysMs, timeoutMs: this.pushTimeoutMs, lifetime: this.lifetime.signal }),
    });
    this.pushes = this.pusher.outcomes;
  }

  // -------------------------------------------------------------------------------------------
  // Organisation: seeding and inspection (no pushes)

  /**
   * Loads departments and users without pushing anything. Departments may come in any order
   * (parents are checked once all are in); a department with id 1 renames the root.
   */
  seed(org: { depts?: readonly DeptInput[]; users?: readonly UserInput[] }): void {
    this.org.seed(org);
  }

  /** A copy of the stored user, or undefined. */
  getUser(userid: string): DingTalkUser | undefined {
    return this.org.getUser(userid);
  }

  /** A copy of the stored department, or undefined. */
  getDept(deptId: number): DingTalkDept | undefined {
    return this.org.getDept(deptId);
  }

  /** Copies of every user. */
  listUsers(): DingTalkUser[] {
    return this.org.listUsers();
  }

  /** Copies of every department, the root first. */
  listDepts(): DingTalkDept[] {
    return this.org.listDepts();
  }

  // -------------------------------------------------------------------------------------------
  // HR actions: change the organisation and push the event DingTalk would push

  /** Creates a department (id from 1000 up unless given) and pushes `org_dept_create`. */
  addDept(input: DeptInput, opts?: MutationOptions): DingTalkDept {
    const dept = this.org.addDept(input);
    this.announce('org_dept_create', { deptIds: [dept.dept_id] }, opts);
    return dept;
  }

  /** Renames, reorders or moves (`parent_id`) a department. */
  updateDept(deptId: number, patch: { name?: string; parent_id?: number; order?: OrderInput }, opts?: MutationOptions): DingTalkDept {
    const dept = this.org.updateDept(deptId, patch);
    this.announce('org_dept_modify', { deptIds: [deptId] }, opts);
    return dept;
  }

  /**
   * Deletes a department and everything below it, announced as one event with every id (as
   * DingTalk does for a cascade). Refuses while any of them has members, as DingTalk's console does.
   */
  removeDept(deptId: number, opts?: MutationOptions): number[] {
    const ids = this.org.removeDept(deptId);
    this.announce('org_dept_remove', { deptIds: ids }, opts);
    return ids;
  }

  /** A user joins (userid assigned unless given) and `user_add_org` is pushed. */
  addUser(input: UserInput, opts?: MutationOptions): DingTalkUser {
    const user = this.org.addUser(input);
    this.announce('user_add_org', { userIds: [user.userid] }, opts);
    return user;
  }

  /**
   * Changes a user; a field set to undefined is cleared. A new `dept_id_list` moves the user:
   * orders and leader flags are kept for the departments that remain.
   */
  updateUser(userid: string, patch: Partial<Omit<UserInput, 'userid'>>, opts?: MutationOptions): DingTalkUser {
    const user = this.org.updateUser(userid, patch);
    this.announce('user_modify_org', { userIds: [userid] }, opts);
    return user;
  }

  /** The user leaves the company: reads now answer "not found". */
  removeUser(userid: string, opts?: MutationOptions): void {
    this.org.removeUser(userid);
    this.announce('user_leave_org', { userIds: [userid] }, opts);
  }

  /**
   * Takes a user out of (or back into) the app's visible scope: reads answer 50002 and lists
   * skip the user. Events still fire for such users, so this pushes `user_modify_org`.
   */
  setOutOfScope(userid: string, outOfScope = true, opts?: MutationOptions): void {
    this.org.setUserOutOfScope(userid, outOfScope);
    this.announce('user_modify_org', { userIds: [userid] }, opts);
  }

  /** Same for a department: reads answer 50004 and `listsub` skips it. Pushes `org_dept_modify`. */
  setDeptOutOfScope(deptId: number, outOfScope = true, opts?: MutationOptions): void {
    this.org.setDeptOutOfScope(deptId, outOfScope);
    this.announce('org_dept_modify', { deptIds: [deptId] }, opts);
  }

  // -------------------------------------------------------------------------------------------
  // Callback pushes

  /** Where HR actions are pushed from now on; undefined stops pushing. */
  setCallback(target: CallbackTarget | undefined): void {
    this.pusher.setCallback(target);
  }

  /**
   * Pushes one contact event (envelope A: `EventType`, `CorpId`, `UserId[]` / `DeptId[]`,
   * `OptStaffId`, `TimeStamp` as a string of ms) and resolves once it is delivered or, after
   * the retries, recorded in the failed list. Never rejects.
   */
  pushEvent(eventType: string, opts: PushEventOptions = {}): Promise<PushOutcome> {
    return this.pusher.pushEvent(eventType, { ...opts, optStaffId: opts.optStaffId ?? this.optStaffId });
  }

  /** Pushes the URL check DingTalk sends when the callback URL is saved (`{"EventType":"check_url"}`). */
  checkUrl(): Promise<PushOutcome> {
    return this.pusher.checkUrl();
  }

  /** Puts a record straight into the failed list, as if every push of it had failed. */
  recordFailedPush(eventType: string, opts: { userIds?: string[]; deptIds?: number[]; eventTime?: number } = {}): void {
    this.failedPushes.record({ eventType, eventTime: opts.eventTime ?? this.clock.now(), userIds: opts.userIds ?? [], deptIds: opts.deptIds ?? [] });
  }

  /** Records in the failed list, including those the last failed-result call returned. */
  get failedBacklog(): number {
    return this.failedPushes.backlog;
  }

  /** Resolves when every push in flight, retries included, has finished. */
  idle(): Promise<void> {
    return this.pusher.idle();
  }

  private announce(eventType: string, ids: { userIds?: string[]; deptIds?: number[] }, opts: MutationOptions = {}): void {
    if (opts.push === false || !this.pushEnabled || !this.pusher.hasCallback) return;
    // Fire and forget, as DingTalk does; idle() and `pushes` tell tests how it went.
    void this.pushEvent(eventType, { ...ids, optStaffId: opts.optStaffId });
  }
}
