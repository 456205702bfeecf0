/**
 * One validated, typed configuration for Lambda, `npm start` and tests (design: configuration
 * contract). Misconfiguration fails with one clear line naming the variable, never its value.
 */

import type { LogLevel } from './log';
import type { RateSettings } from './rate-budget';

export type LeavePolicy = 'disable' | 'delete' | 'ignore';

export interface CallbackConfig {
  token: string;
  aesKey: string;
  ownerKey: string;
  /** 0 disables the freshness check. */
  maxSkewSeconds: number;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
}

export interface SyncConfig {
  dingtalkAppKey: string;
  dingtalkAppSecret: string;
  dingtalkApiBase: string;
  wecomCorpId: string;
  wecomContactSecret: string;
  wecomApiBase: string;
  onLeave: LeavePolicy;
  rootDeptIds: number[];
  excludeDeptIds: number[];
  toInvite: boolean;
  maxDeleteRatio: number;
  /**
   * The reconcile re-reads ⌈people ÷ this⌉ people with `user/get` per run, so this many
   * consecutive runs re-read everyone and repair what a listing cannot show (reporting lines).
   */
  detailSweepRuns: number;
}

/** Where the service keeps its queue and state, and how the local server runs. */
export interface DeploymentConfig {
  /** SQS FIFO change queue; unset locally → the in-process queue. */
  queueUrl?: string;
  /** SQS FIFO dead-letter queue (the redrive source). */
  deadLetterQueueUrl?: string;
  /** DynamoDB state table; unset locally → the embedded file store. */
  stateTable?: string;
  /** The embedded store's file, for `npm start` and `npm run reconcile` with real APIs. */
  stateFile: string;
  /** `npm start`'s port. */
  port: number;
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`configuration: ${variable} ${problem}`);
  }
}

type Env = Record<string, string | undefined>;

/** Default freshness window: DingTalk retries at +10 s and +30 s, so 5 minutes covers a retry plus clock drift. */
export const DEFAULT_MAX_SKEW_SECONDS = 300;
/** A week of daily reconciles re-reads everyone once. */
export const DEFAULT_DETAIL_SWEEP_RUNS = 7;
/** Beyond a year of daily runs a sweep would repair nothing in useful time. */
const MAX_DETAIL_SWEEP_RUNS = 366;
/** A contact event is a few hundred bytes; 64 KiB leaves room for large id lists. */
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

function required(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v === '') throw new ConfigError(name, 'is not set');
  return v;
}

function intIn(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  return n;
}

function idList(env: Env, name: string, dflt: number[]): number[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  return raw.split(',').map((part) => {
    const s = part.trim();
    if (!/^\d+$/.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s))) {
      throw new ConfigError(name, 'must be a comma-separated list of positive department ids');
    }
    return Number(s);
  });
}

/**
 * An API base setting as the clients use it: an http(s) origin, optionally with a path prefix (a
 * proxy), without trailing slashes. A value fetch cannot use, or one that would put the API path
 * into a query string, fails here naming the variable, instead of as a retried network error on
 * the first call. Credentials in it are refused (fetch refuses them too) and never echoed.
 */
export function apiBase(value: string, variable: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(variable, 'must be an http(s) origin such as https://qyapi.weixin.qq.com');
  }
  if (value.trim() !== value) throw new ConfigError(variable, 'has spaces around it');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(variable, 'must start with https:// (or http:// for a local proxy)');
  if (url.username || url.password) throw new ConfigError(variable, 'must not contain a user name or password (use a proxy that needs none)');
  if (url.search || url.hash) throw new ConfigError(variable, 'must not have a query string or fragment: the API path is appended to it');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export function loadCallbackConfig(env: Env = process.env): CallbackConfig {
  const token = required(env, 'DINGTALK_TOKEN');
  const aesKey = required(env, 'DINGTALK_AES_KEY');
  if (!/^[A-Za-z0-9]{43}$/.test(aesKey)) {
    throw new ConfigError('DINGTALK_AES_KEY', 'must be 43 letters or digits (the EncodingAESKey)');
  }
  const ownerKey = env.DINGTALK_OWNER_KEY || env.DINGTALK_APP_KEY;
  if (!ownerKey) {
    throw new ConfigError('DINGTALK_OWNER_KEY', 'is not set (nor DINGTALK_APP_KEY, its default)');
  }
  return {
    token,
    aesKey,
    ownerKey,
    maxSkewSeconds: intIn(env, 'CALLBACK_MAX_SKEW_SECONDS', DEFAULT_MAX_SKEW_SECONDS, 0, 7 * 24 * 3600),
    maxBodyBytes: intIn(env, 'CALLBACK_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 256, 6 * 1024 * 1024),
  };
}

export function loadSyncConfig(env: Env = process.env): SyncConfig {
  const onLeave = (env.SYNC_ON_LEAVE || 'disable') as LeavePolicy;
  if (!['disable', 'delete', 'ignore'].includes(onLeave)) {
    throw new ConfigError('SYNC_ON_LEAVE', 'must be disable, delete or ignore');
  }
  const toInviteRaw = (env.WECOM_TO_INVITE || 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(toInviteRaw)) {
    throw new ConfigError('WECOM_TO_INVITE', 'must be true or false');
  }
  const ratioRaw = env.SYNC_MAX_DELETE_RATIO || '0.2';
  const ratio = Number(ratioRaw);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new ConfigError('SYNC_MAX_DELETE_RATIO', 'must be a number from 0 to 1');
  }
  return {
    dingtalkAppKey: required(env, 'DINGTALK_APP_KEY'),
    dingtalkAppSecret: required(env, 'DINGTALK_APP_SECRET'),
    dingtalkApiBase: apiBase(env.DINGTALK_API_BASE || 'https://oapi.dingtalk.com', 'DINGTALK_API_BASE'),
    wecomCorpId: required(env, 'WECOM_CORP_ID'),
    wecomContactSecret: required(env, 'WECOM_CONTACT_SECRET'),
    wecomApiBase: apiBase(env.WECOM_API_BASE || 'https://qyapi.weixin.qq.com', 'WECOM_API_BASE'),
    onLeave,
    rootDeptIds: idList(env, 'SYNC_ROOT_DEPT_IDS', [1]),
    excludeDeptIds: idList(env, 'SYNC_EXCLUDE_DEPT_IDS', []),
    toInvite: toInviteRaw === 'true' || toInviteRaw === '1',
    maxDeleteRatio: ratio,
    detailSweepRuns: intIn(env, 'SYNC_DETAIL_SWEEP_RUNS', DEFAULT_DETAIL_SWEEP_RUNS, 1, MAX_DETAIL_SWEEP_RUNS),
  };
}

/** DingTalk's documented limit per app per API, and WeCom's per company per API. */
const DINGTALK_LIMIT_PER_SECOND = 20;
const WECOM_LIMIT_PER_MINUTE = 10_000;

/**
 * How the platforms' limits are split between the processes that share them (lib/rate-budget.ts).
 * The defaults keep 10 % below each limit: the workers cannot see one another's calls, and their
 * clocks and the network bunch calls that were evenly spaced when they left.
 */
export function loadRateSettings(env: Env = process.env): RateSettings {
  return {
    dingtalkCallsPerSecond: intIn(env, 'DINGTALK_CALLS_PER_SECOND', 18, 1, DINGTALK_LIMIT_PER_SECOND),
    wecomCallsPerMinute: intIn(env, 'WECOM_CALLS_PER_MINUTE', 9_000, 1, WECOM_LIMIT_PER_MINUTE),
    // The SQS trigger's maximumConcurrency takes 2 to 1000; 1 serves `npm start`'s loop.
    syncMaxConcurrency: intIn(env, 'SYNC_MAX_CONCURRENCY', 5, 1, 1000),
    reconcileRateShare: intIn(env, 'RECONCILE_RATE_SHARE', 2, 1, 1000),
  };
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** The log level from `LOG_LEVEL` (default `info`). */
export function loadLogLevel(env: Env = process.env): LogLevel {
  const raw = (env.LOG_LEVEL || 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(raw)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  return raw;
}

/** The change queue and its dead-letter queue (unset locally). */
export function loadQueueSettings(env: Env = process.env): Pick<DeploymentConfig, 'queueUrl' | 'deadLetterQueueUrl'> {
  return { queueUrl: env.QUEUE_URL?.trim() || undefined, deadLetterQueueUrl: env.DLQ_URL?.trim() || undefined };
}

export function loadDeploymentConfig(env: Env = process.env): DeploymentConfig {
  const optional = (name: string) => env[name]?.trim() || undefined;
  return {
    ...loadQueueSettings(env),
    stateTable: optional('STATE_TABLE'),
    stateFile: optional('STATE_FILE') ?? '.data/state.json',
    port: intIn(env, 'PORT', 3000, 0, 65535),
    logLevel: loadLogLevel(env),
  };
}

/** A setting that this entry point cannot run without (e.g. QUEUE_URL in AWS). */
export function requireSetting(value: string | undefined, variable: string): string {
  if (!value) throw new ConfigError(variable, 'is not set');
  return value;
}
