import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_MAX_SKEW_SECONDS,
  loadCallbackConfig,
  loadDeploymentConfig,
  loadRateSettings,
  loadSyncConfig,
  requireSetting,
} from '../lib/config';
import { WeComApi } from '../lib/wecom/api';

const callbackEnv = { DINGTALK_TOKEN: 'tok', DINGTALK_AES_KEY: 'a'.repeat(43), DINGTALK_APP_KEY: 'dingapp' };
const syncEnv = { DINGTALK_APP_KEY: 'dingapp', DINGTALK_APP_SECRET: 'secret-value-1', WECOM_CORP_ID: 'wwcorp', WECOM_CONTACT_SECRET: 'secret-value-2' };

function variableOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.variable;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadCallbackConfig', () => {
  it('defaults the owner key to the AppKey and the freshness window to 5 minutes', () => {
    expect(loadCallbackConfig(callbackEnv)).toMatchObject({ ownerKey: 'dingapp', maxSkewSeconds: DEFAULT_MAX_SKEW_SECONDS, maxBodyBytes: 65536 });
    expect(loadCallbackConfig({ ...callbackEnv, DINGTALK_OWNER_KEY: 'dingcorpid', CALLBACK_MAX_SKEW_SECONDS: '0' })).toMatchObject({
      ownerKey: 'dingcorpid',
      maxSkewSeconds: 0,
    });
  });

  it.each([
    [{ ...callbackEnv, DINGTALK_TOKEN: '' }, 'DINGTALK_TOKEN'],
    [{ ...callbackEnv, DINGTALK_AES_KEY: 'short' }, 'DINGTALK_AES_KEY'],
    [{ ...callbackEnv, DINGTALK_AES_KEY: `${'a'.repeat(42)}=` }, 'DINGTALK_AES_KEY'],
    [{ DINGTALK_TOKEN: 't', DINGTALK_AES_KEY: 'a'.repeat(43) }, 'DINGTALK_OWNER_KEY'],
    [{ ...callbackEnv, CALLBACK_MAX_SKEW_SECONDS: '-1' }, 'CALLBACK_MAX_SKEW_SECONDS'],
    [{ ...callbackEnv, CALLBACK_MAX_SKEW_SECONDS: 'five' }, 'CALLBACK_MAX_SKEW_SECONDS'],
    [{ ...callbackEnv, CALLBACK_MAX_BODY_BYTES: '10' }, 'CALLBACK_MAX_BODY_BYTES'],
  ])('names the variable that is wrong (%#)', (env, variable) => {
    expect(variableOf(() => loadCallbackConfig(env))).toBe(variable);
  });

  it('never puts a value in the message', () => {
    try {
      loadCallbackConfig({ ...callbackEnv, DINGTALK_AES_KEY: 'not-a-valid-key-but-secret' });
    } catch (e) {
      expect((e as Error).message).not.toContain('not-a-valid-key-but-secret');
      expect((e as Error).message).toMatch(/^configuration: DINGTALK_AES_KEY /);
    }
  });
});

describe('loadSyncConfig', () => {
  it('has the documented defaults', () => {
    expect(loadSyncConfig(syncEnv)).toMatchObject({
      dingtalkApiBase: 'https://oapi.dingtalk.com',
      wecomApiBase: 'https://qyapi.weixin.qq.com',
      onLeave: 'disable',
      rootDeptIds: [1],
      excludeDeptIds: [],
      toInvite: false,
      maxDeleteRatio: 0.2,
      detailSweepRuns: 7,
    });
  });

  it('parses scope lists, policies and flags', () => {
    expect(
      loadSyncConfig({
        ...syncEnv,
        SYNC_ROOT_DEPT_IDS: '2, 5',
        SYNC_EXCLUDE_DEPT_IDS: '9',
        SYNC_ON_LEAVE: 'delete',
        WECOM_TO_INVITE: 'true',
        WECOM_API_BASE: 'http://127.0.0.1:1/cgi-bin/',
        SYNC_DETAIL_SWEEP_RUNS: '30',
      }),
    ).toMatchObject({
      detailSweepRuns: 30,
      rootDeptIds: [2, 5],
      excludeDeptIds: [9],
      onLeave: 'delete',
      toInvite: true,
      wecomApiBase: 'http://127.0.0.1:1/cgi-bin',
    });
  });

  it.each([
    [{ ...syncEnv, DINGTALK_APP_SECRET: undefined }, 'DINGTALK_APP_SECRET'],
    [{ ...syncEnv, WECOM_CONTACT_SECRET: '' }, 'WECOM_CONTACT_SECRET'],
    [{ ...syncEnv, WECOM_CORP_ID: undefined }, 'WECOM_CORP_ID'],
    [{ ...syncEnv, SYNC_ON_LEAVE: 'archive' }, 'SYNC_ON_LEAVE'],
    [{ ...syncEnv, SYNC_ROOT_DEPT_IDS: '1,x' }, 'SYNC_ROOT_DEPT_IDS'],
    [{ ...syncEnv, SYNC_EXCLUDE_DEPT_IDS: '0' }, 'SYNC_EXCLUDE_DEPT_IDS'],
    [{ ...syncEnv, WECOM_TO_INVITE: 'yes' }, 'WECOM_TO_INVITE'],
    [{ ...syncEnv, SYNC_MAX_DELETE_RATIO: '1.5' }, 'SYNC_MAX_DELETE_RATIO'],
    [{ ...syncEnv, SYNC_DETAIL_SWEEP_RUNS: '0' }, 'SYNC_DETAIL_SWEEP_RUNS'],
    [{ ...syncEnv, SYNC_DETAIL_SWEEP_RUNS: '367' }, 'SYNC_DETAIL_SWEEP_RUNS'],
    [{ ...syncEnv, SYNC_DETAIL_SWEEP_RUNS: '2.5' }, 'SYNC_DETAIL_SWEEP_RUNS'],
    [{ ...syncEnv, SYNC_DETAIL_SWEEP_RUNS: 'weekly' }, 'SYNC_DETAIL_SWEEP_RUNS'],
  ])('names the variable that is wrong (%#)', (env, variable) => {
    expect(variableOf(() => loadSyncConfig(env))).toBe(variable);
  });
});

describe('loadRateSettings', () => {
  it('defaults to 10 % below each platform’s limit, five sync workers and two shares for the reconcile', () => {
    expect(loadRateSettings({})).toEqual({ dingtalkCallsPerSecond: 18, wecomCallsPerMinute: 9_000, syncMaxConcurrency: 5, reconcileRateShare: 2 });
  });

  it('takes what serverless.yml passes', () => {
    expect(
      loadRateSettings({ DINGTALK_CALLS_PER_SECOND: '20', WECOM_CALLS_PER_MINUTE: '10000', SYNC_MAX_CONCURRENCY: '10', RECONCILE_RATE_SHARE: '1' }),
    ).toEqual({ dingtalkCallsPerSecond: 20, wecomCallsPerMinute: 10_000, syncMaxConcurrency: 10, reconcileRateShare: 1 });
  });

  it.each([
    // Above the platforms' own limits: every call beyond them is refused.
    [{ DINGTALK_CALLS_PER_SECOND: '21' }, 'DINGTALK_CALLS_PER_SECOND'],
    [{ WECOM_CALLS_PER_MINUTE: '10001' }, 'WECOM_CALLS_PER_MINUTE'],
    // Nothing left to call with.
    [{ DINGTALK_CALLS_PER_SECOND: '0' }, 'DINGTALK_CALLS_PER_SECOND'],
    [{ WECOM_CALLS_PER_MINUTE: '0' }, 'WECOM_CALLS_PER_MINUTE'],
    [{ SYNC_MAX_CONCURRENCY: '0' }, 'SYNC_MAX_CONCURRENCY'],
    [{ RECONCILE_RATE_SHARE: '0' }, 'RECONCILE_RATE_SHARE'],
    // Not a whole number.
    [{ DINGTALK_CALLS_PER_SECOND: '18.5' }, 'DINGTALK_CALLS_PER_SECOND'],
    [{ DINGTALK_CALLS_PER_SECOND: 'Infinity' }, 'DINGTALK_CALLS_PER_SECOND'],
    [{ SYNC_MAX_CONCURRENCY: 'five' }, 'SYNC_MAX_CONCURRENCY'],
    [{ RECONCILE_RATE_SHARE: '-1' }, 'RECONCILE_RATE_SHARE'],
  ])('names the variable that is wrong (%#)', (env, variable) => {
    expect(variableOf(() => loadRateSettings(env))).toBe(variable);
  });

  it('says the range, never the value', () => {
    try {
      loadRateSettings({ DINGTALK_CALLS_PER_SECOND: '9999' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect((e as Error).message).toBe('configuration: DINGTALK_CALLS_PER_SECOND must be a whole number from 1 to 20');
    }
  });
});

describe('loadDeploymentConfig', () => {
  it('leaves the queue and table unset locally, and defaults the state file, port and log level', () => {
    expect(loadDeploymentConfig({})).toEqual({
      queueUrl: undefined,
      deadLetterQueueUrl: undefined,
      stateTable: undefined,
      stateFile: '.data/state.json',
      port: 3000,
      logLevel: 'info',
    });
  });

  it('reads every setting the entry points use', () => {
    expect(
      loadDeploymentConfig({
        QUEUE_URL: 'https://sqs/q.fifo',
        DLQ_URL: 'https://sqs/d.fifo',
        STATE_TABLE: 't',
        STATE_FILE: 'var/state.json',
        PORT: '0',
        LOG_LEVEL: 'WARN',
      }),
    ).toEqual({
      queueUrl: 'https://sqs/q.fifo',
      deadLetterQueueUrl: 'https://sqs/d.fifo',
      stateTable: 't',
      stateFile: 'var/state.json',
      port: 0,
      logLevel: 'warn',
    });
  });

  it.each([
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: 'http' }, 'PORT'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
  ])('names the variable that is wrong (%#)', (env, variable) => {
    expect(variableOf(() => loadDeploymentConfig(env))).toBe(variable);
  });

  it('requireSetting names a missing setting', () => {
    expect(variableOf(() => requireSetting(undefined, 'QUEUE_URL'))).toBe('QUEUE_URL');
    expect(requireSetting('https://sqs/q.fifo', 'QUEUE_URL')).toBe('https://sqs/q.fifo');
  });
});

const apiCredentials = {
  DINGTALK_APP_KEY: 'dingappkey',
  DINGTALK_APP_SECRET: 'dingappsecret',
  WECOM_CORP_ID: 'wwcorp',
  WECOM_CONTACT_SECRET: 'wecomsecret',
};

const unusable: [string, string][] = [
  ['no scheme', 'qyapi.weixin.qq.com'],
  ['not a URL', 'not a url'],
  ['a trailing space (the client then appends /cgi-bin after it)', 'https://qyapi.weixin.qq.com '],
  ['a query string (the API path lands in the query)', 'https://proxy.example.com/?route=wecom'],
  ['a scheme fetch cannot use', 'ftp://proxy.example.com'],
];

const usable = ['https://qyapi.weixin.qq.com/', 'HTTPS://QYAPI.weixin.qq.com', 'https://proxy.example.com/wecom', 'http://127.0.0.1:8080/cgi-bin/'];

describe.each(['WECOM_API_BASE', 'DINGTALK_API_BASE'])('%s is an http(s) origin, checked at load', (variable) => {
  it.each(usable)('accepts %s', (value) => {
    expect(() => loadSyncConfig({ ...apiCredentials, [variable]: value })).not.toThrow();
  });

  it.each(unusable)('is refused at load with a ConfigError naming it: %s', (_what, value) => {
    let error: unknown;
    try {
      loadSyncConfig({ ...apiCredentials, [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
  });

  it('with a password in it (a proxy URL) is refused without printing the password', () => {
    // fetch refuses URLs with credentials, and `npm start` prints the base it uses.
    let error: unknown;
    try {
      loadSyncConfig({ ...apiCredentials, [variable]: 'https://proxyuser:Pr0xyPassw0rd@proxy.example.com' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).not.toContain('Pr0xyPassw0rd');
  });
});

it('a client given an unusable base fails when it is built, naming the setting, not as a retried network error later', () => {
  expect(() => new WeComApi({ corpId: 'wwcorp', secret: 'wecomsecret', baseUrl: 'qyapi.weixin.qq.com', timeoutMs: 1000 })).toThrow(
    expect.objectContaining({ name: 'ConfigError', variable: 'WECOM_API_BASE' }),
  );
});
