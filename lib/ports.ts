/**
 * The interfaces the core needs from the outside world. Lambda, `npm start` and the tests plug
 * different adapters into the same core: SQS or an in-process queue, DynamoDB or an embedded
 * store, the real DingTalk/WeCom APIs or the sandbox simulators.
 *
 * Nothing in this file does I/O; it only names shapes.
 */
import type { MessageTrail } from './trail/trail';

/** A DingTalk entity the sync follows. */
export type EntityKind = 'user' | 'dept';

/**
 * "This entity may have changed": the unit of work on the queue. It never carries a diff; the
 * worker reads the entity's current state from DingTalk (so duplicates and reordering converge on the same result).
 */
export interface ChangeMessage {
  kind: EntityKind;
  /** DingTalk userid (opaque string) or department id as a decimal string. */
  id: string;
  /** The DingTalk EventType that announced it, or `reconcile` / `failed_push_sweep` / `manager_can_lead` (lib/sync/waiting-reports.ts). */
  eventType: string;
  /** Epoch milliseconds of the event as DingTalk stated it (0 when unknown). */
  eventTime: number;
  corpId: string;
  /** Envelope B's unique `eventId`, when present. */
  eventId?: string;
  /**
   * Set on a copy sent back because the platforms throttled it until its invocation ran out of
   * time (lib/sync/throttle-requeue.ts): how many times so far, and since when (epoch ms).
   */
  throttled?: { requeues: number; since: number };
  /** The correlation id and source, carried beside the body (SQS message attributes). */
  trail?: MessageTrail;
}

/** Thrown by a ChangeQueue when not every message was accepted: the caller must not acknowledge. */
export class QueueRejectedError extends Error {
  override readonly name = 'QueueRejectedError';
  constructor(
    readonly accepted: number,
    readonly rejected: number,
    readonly reason: string,
  ) {
    super(`queue accepted ${accepted} of ${accepted + rejected} messages: ${reason}`);
  }
}

export interface ChangeQueue {
  /** Resolves only once every message is durably accepted; otherwise throws QueueRejectedError. */
  enqueue(messages: readonly ChangeMessage[]): Promise<void>;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

// ---------------------------------------------------------------------------------------------
// DingTalk (read side)

/** `topapi/v2/user/get` result, and the entries of `topapi/v2/user/list`. Absent = no permission or empty. */
export interface DingTalkUser {
  userid: string;
  name: string;
  unionid?: string;
  mobile?: string;
  state_code?: string;
  telephone?: string;
  job_number?: string;
  title?: string;
  email?: string;
  org_email?: string;
  work_place?: string;
  remark?: string;
  active?: boolean;
  admin?: boolean;
  boss?: boolean;
  manager_userid?: string;
  dept_id_list: number[];
  /** `order` may exceed 2^53: kept as its exact decimal string. */
  dept_order_list?: { dept_id: number; order: string }[];
  leader_in_dept?: { dept_id: number; leader: boolean }[];
  /**
   * Fields this record cannot tell, whatever it holds: a `v2/user/list` item has no
   * `manager_userid`, so there an absent manager means "unknown", not "none". Absent: a
   * `user/get` record, which says everything the app may read.
   */
  unknownFields?: readonly UnknownUserField[];
}

/** Fields a DingTalk listing may lack (see DingTalkUser.unknownFields). */
export type UnknownUserField = 'manager_userid';

export interface DingTalkDept {
  dept_id: number;
  name: string;
  /** Absent for the root (1). */
  parent_id?: number;
  /** Exact decimal string (may exceed 2^53). */
  order?: string;
}

export interface DingTalkUserPage {
  hasMore: boolean;
  nextCursor?: number;
  list: DingTalkUser[];
}

/** One record of `call_back/get_call_back_failed_result`. */
export interface FailedPush {
  eventType: string;
  eventTime: number;
  corpId: string;
  userIds: string[];
  deptIds: string[];
}

export interface FailedPushPage {
  hasMore: boolean;
  failed: FailedPush[];
}

/** Errors are thrown as `PlatformError` (lib/errors.ts) carrying the errcode. */
export interface DingTalkDirectory {
  getUser(userid: string): Promise<DingTalkUser>;
  getDept(deptId: number): Promise<DingTalkDept>;
  /** Direct children only (`v2/department/listsub`). */
  listSubDepts(deptId: number): Promise<DingTalkDept[]>;
  /** One page of direct members (`v2/user/list`), size ≤ 100. */
  listUsers(deptId: number, cursor: number, size: number): Promise<DingTalkUserPage>;
  /** All direct member ids (`user/listid`). */
  listUserIds(deptId: number): Promise<string[]>;
  /** One page of failed pushes; each call forgets what the previous call returned. */
  getFailedPushes(): Promise<FailedPushPage>;
}

// ---------------------------------------------------------------------------------------------
// WeCom (write side; the contact-sync secret can only list ids, never read details: 48009)

export interface WeComDeptPayload {
  id?: number;
  name: string;
  parentid: number;
  order?: number;
}

export interface WeComUserPayload {
  userid: string;
  name: string;
  department: number[];
  order?: number[];
  is_leader_in_dept?: number[];
  mobile?: string;
  email?: string;
  position?: string;
  telephone?: string;
  direct_leader?: string[];
  enable?: 0 | 1;
  to_invite?: boolean;
}

export interface WeComDeptRef {
  id: number;
  parentid: number;
  order?: number;
}

export interface WeComUserDeptRow {
  userid: string;
  department: number;
}

/** Errors are thrown as `PlatformError` (lib/errors.ts) carrying the errcode. */
export interface WeComDirectory {
  /** Returns the id WeCom used (the requested one, or one it assigned). */
  createDept(payload: WeComDeptPayload): Promise<number>;
  updateDept(payload: Partial<WeComDeptPayload> & { id: number }): Promise<void>;
  deleteDept(id: number): Promise<void>;
  /** `department/simplelist`: the whole tree below `rootId` (default: everything). */
  listDepts(rootId?: number): Promise<WeComDeptRef[]>;
  createUser(payload: WeComUserPayload): Promise<void>;
  updateUser(payload: Partial<WeComUserPayload> & { userid: string }): Promise<void>;
  deleteUser(userid: string): Promise<void>;
  /** `user/list_id`, all pages: one row per user and department. */
  listUserDepts(): Promise<WeComUserDeptRow[]>;
}

// ---------------------------------------------------------------------------------------------
// State store: what the sync wrote, because WeCom will not let it read back (48009 on detail reads)

/**
 * `pending` is a claim taken (conditionally) before creating something in WeCom, so two
 * concurrent workers cannot both create it; `ignored` records a leaver under SYNC_ON_LEAVE=ignore
 * or an entity the sync was told about but may not touch; `blocked` is a department that must go
 * but that WeCom will not delete because of what it still holds (`blockedBy`), which the sync may
 * not or could not move.
 */
export type EntityStatus = 'synced' | 'disabled' | 'deleted' | 'failed' | 'ignored' | 'pending' | 'blocked';

export interface EntityState {
  kind: EntityKind;
  /** DingTalk id (userid, or department id as a decimal string). */
  id: string;
  /** WeCom userid or department id (decimal string); absent until something exists in WeCom. */
  wecomId?: string;
  /** True when the sync created or adopted the WeCom object: only then may it change it. */
  owned: boolean;
  status: EntityStatus;
  /** Hash of the last payload written to WeCom. */
  payloadHash?: string;
  /** The last payload written, so a reconcile can compare WeCom's id lists against it. */
  payload?: WeComUserPayload | WeComDeptPayload;
  lastErrcode?: number;
  lastError?: string;
  /**
   * A department create whose id WeCom assigns: the parent, the name asked for and the ids of the
   * parent's children just before the first try, kept from the claim until the department is
   * saved or fails for good. An answer that lost the id leaves a department the store does not
   * know; its retry tells that one (a child that appeared since) from those that were already
   * there, under the parent and name that try asked for (`name` absent in records from before).
   */
  creating?: { parentid: number; name?: string; childIds: number[] };
  /**
   * A create sent (or about to be sent) to WeCom and not yet confirmed by a saved result: the id
   * it asked for and what it sent. Kept until confirmed; meanwhile a WeCom object with exactly
   * this id (for a department, under this parent) is the sync's own, so a lost state write can
   * never leave an active orphan behind. Absent `wecomId`: WeCom was to assign the id.
   */
  claim?: { wecomId?: string; payload?: WeComUserPayload | WeComDeptPayload };
  /** A disabled leaver's contact details given up to new people who needed them (oldest first). */
  releases?: ContactRelease[];
  /** Departments: the DingTalk parent last read, so that scope is judged on the chain without reading DingTalk again. */
  dingtalkParentId?: number;
  /** Departments `blocked`: what WeCom still held when it refused the deletion (userids, child department ids). */
  blockedBy?: { users: string[]; depts: number[] };
  /**
   * Departments: the users to sync again once it exists in WeCom (again): placed without it when
   * it could not be created, or shed when it left the scope.
   */
  waitingUsers?: string[];
  /** Departments: child departments (DingTalk ids) shed when it left the scope, written again once it is back. */
  waitingDepts?: string[];
  /**
   * Departments whose deletion this member or child department held up (DingTalk ids), retried
   * after its next successful write.
   */
  blocking?: string[];
  /**
   * Users: people whose write WeCom refused for a mobile or email this enabled member holds,
   * synced again when it is disabled (and can give them up).
   */
  contactWaiters?: string[];
  /**
   * Users: the DingTalk manager the last write left out of `direct_leader` because they could
   * not lead in WeCom yet (not synced there: failed, a leaver, not written yet). The person is
   * written again once that manager can lead: sent to the queue by the worker whose write made
   * the manager able to (sync/waiting-reports.ts), else by the next reconcile (apply-plan.ts).
   */
  leaderWithheld?: string;
  /** Epoch ms of this record. */
  updatedAt: number;
  /** Optimistic-concurrency counter, 1 on first write; maintained by the store. */
  version: number;
}

/** A disabled leaver gave `to` its mobile and/or email; `placeholderEmail` is what it keeps instead, if anything. */
export interface ContactRelease {
  to: string;
  gave: ('mobile' | 'email')[];
  placeholderEmail?: string;
  at: number;
}

/** Thrown by StateStore.put when `ifVersion` does not match what is stored. */
export class StaleStateError extends Error {
  override readonly name = 'StaleStateError';
  constructor(
    readonly kind: EntityKind,
    readonly id: string,
  ) {
    super(`state of ${kind} ${id} was changed by someone else`);
  }
}

export interface RunReport {
  runId: string;
  startedAt: number;
  finishedAt: number;
  status: 'success' | 'partial' | 'failed' | 'blocked' | 'locked';
  dryRun: boolean;
  counts: Record<string, number>;
  errors: { kind: EntityKind; id: string; op: string; errcode?: number; message: string }[];
  /** What the run did that an operator should know about besides the counts (e.g. a leaver that gave a rehire its mobile). */
  notices?: { kind: EntityKind; id: string; message: string }[];
  message?: string;
  /**
   * Present when the report was too large to keep whole (lib/run-report.ts): how many errors and
   * notices the run had, of which `errors` and `notices` hold the first.
   */
  totals?: { errors: number; notices: number };
}

/**
 * Change messages read from a source that forgets what it returned (DingTalk's failed-push list),
 * kept in the state store until the queue has accepted them.
 */
export interface OutboxRecord {
  id: string;
  /** Epoch ms when it was saved; records are listed oldest first. */
  savedAt: number;
  messages: ChangeMessage[];
}

export interface StateStore {
  get(kind: EntityKind, id: string): Promise<EntityState | undefined>;
  /**
   * Writes a record and returns it with `version` incremented. With `ifVersion`, the write only
   * happens when the stored version equals it (0 = must not exist yet); else StaleStateError.
   */
  put(state: Omit<EntityState, 'version'>, opts?: { ifVersion?: number }): Promise<EntityState>;
  /** Every record of one kind. */
  list(kind: EntityKind): Promise<EntityState[]>;
  /**
   * The userids of `synced` users whose last write left `manager` out of their reporting line
   * (`leaderWithheld`), oldest record first: written again once that manager can lead.
   */
  awaitingLeader(manager: string): Promise<string[]>;
  /** Takes a named lock until `now + ttlMs`; false when someone else holds an unexpired one. */
  acquireLock(name: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  releaseLock(name: string, owner: string): Promise<void>;
  /**
   * Takes the write lease on one entity until `now + ttlMs`, so that its read DingTalk → write
   * WeCom → save runs in one worker or one reconcile at a time. False when another owner holds
   * an unexpired lease (at `expiresAt` exactly it has expired); the holder may renew its own.
   */
  acquireLease(kind: EntityKind, id: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  /** Ends the lease, only if `owner` still holds it. */
  releaseLease(kind: EntityKind, id: string, owner: string): Promise<void>;
  /** Saves a record under its id (replacing one with the same id). */
  putOutbox(record: OutboxRecord): Promise<void>;
  /** Every outbox record, oldest first (by `savedAt`, then `id`). */
  listOutbox(): Promise<OutboxRecord[]>;
  /** Deletes a record; deleting one that does not exist is not an error. */
  deleteOutbox(id: string): Promise<void>;
  /** Saves the latest run report, bounded in size as `boundReport` does (the first errors, and the totals). */
  putReport(report: RunReport): Promise<void>;
  latestReport(): Promise<RunReport | undefined>;
  /**
   * A named position that a recurring job keeps between runs (the reconcile's detail sweep: the
   * last userid it re-read); undefined until first saved.
   */
  getCursor(name: string): Promise<string | undefined>;
  /** Saves a cursor, replacing its previous value. */
  putCursor(name: string, value: string): Promise<void>;
}
