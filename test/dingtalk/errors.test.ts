import { describe, expect, it } from 'vitest';
import { classifyDingTalkError, describeDingTalkConfigError, ERRCODE_BAD_ANSWER, isDeptGone, isOutOfScope, isUserGone } from '../../lib/dingtalk/errors';
import { ERRCODE_PROTOCOL, type FailureClass, PlatformError } from '../../lib/errors';

describe('classifyDingTalkError', () => {
  const table: [number, FailureClass, string][] = [
    [-1, 'retryable', 'system busy, network error, timeout or the per-IP ban'],
    [90018, 'retryable', 'per-app per-API rate limit'],
    [90002, 'retryable', 'another throttling answer'],
    [500, 'retryable', 'HTTP 500'],
    [503, 'retryable', 'HTTP 503'],
    [40014, 'retryable', 'token rejected after a refresh'],
    [42001, 'retryable', 'token expired after a refresh'],
    [88, 'configuration', 'auth exception without a numeric sub_code'],
    [40001, 'configuration', 'wrong secret'],
    [40089, 'configuration', 'invalid appkey or appsecret'],
    [60011, 'configuration', 'no permission'],
    [60020, 'configuration', 'caller IP not allowed'],
    [50002, 'configuration', 'user outside the app scope'],
    [50004, 'configuration', 'department outside the app scope'],
    [60121, 'permanent', 'user not found'],
    [33012, 'permanent', 'invalid userid'],
    [60003, 'permanent', 'department not found'],
    [40035, 'permanent', 'bad parameter'],
    [ERRCODE_BAD_ANSWER, 'permanent', 'unusable answer: an id beyond 2^53'],
    [ERRCODE_PROTOCOL, 'retryable', 'an answer not of the documented shape (a proxy in between)'],
    [90100, 'permanent', 'just past the throttling range'],
  ];
  it.each(table)('%i is %s (%s)', (errcode, expected) => {
    expect(classifyDingTalkError(errcode)).toBe(expected);
  });

  it('describes what to fix for every configuration errcode', () => {
    for (const [errcode, failure] of table) {
      expect(describeDingTalkConfigError(errcode) !== undefined, String(errcode)).toBe(failure === 'configuration');
    }
  });
});

describe('gone / out-of-scope helpers', () => {
  const dt = (errcode: number) => new PlatformError('dingtalk', 'topapi/v2/user/get', errcode, '', classifyDingTalkError(errcode));

  it('recognise DingTalk errcodes', () => {
    expect([isUserGone(dt(60121)), isUserGone(dt(33012)), isUserGone(dt(60003))]).toEqual([true, true, false]);
    expect([isDeptGone(dt(60003)), isDeptGone(dt(60121))]).toEqual([true, false]);
    expect([isOutOfScope(dt(50002)), isOutOfScope(dt(50004)), isOutOfScope(dt(60011))]).toEqual([true, true, false]);
  });

  it('ignore WeCom errors with the same numbers and other values', () => {
    const wecom = new PlatformError('wecom', 'department/update', 60003, 'department not found', 'permanent');
    expect(isDeptGone(wecom)).toBe(false);
    expect(isUserGone(new Error('60121'))).toBe(false);
    expect(isOutOfScope(undefined)).toBe(false);
  });
});
