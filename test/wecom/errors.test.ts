import { describe, expect, it } from 'vitest';
import { ERRCODE_PROTOCOL, type FailureClass } from '../../lib/errors';
import { callerIpFrom60020, classifyWeComError, describeWeComConfigError } from '../../lib/wecom/errors';

describe('classifyWeComError', () => {
  const table: [number, FailureClass, string][] = [
    [-1, 'retryable', 'system busy, network error or timeout'],
    [45009, 'retryable', 'frequency limit'],
    [45033, 'retryable', 'too many concurrent calls'],
    [6000, 'retryable', 'data version conflict'],
    [500, 'retryable', 'HTTP 500'],
    [502, 'retryable', 'HTTP 502'],
    [599, 'retryable', 'HTTP 599'],
    [40014, 'retryable', 'token rejected after a refresh'],
    [42001, 'retryable', 'token expired after a refresh'],
    [60020, 'configuration', 'caller IP not trusted'],
    [40001, 'configuration', 'wrong secret'],
    [40013, 'configuration', 'invalid corp id'],
    [41001, 'configuration', 'token missing'],
    [48002, 'configuration', 'API forbidden for this secret'],
    [60011, 'configuration', 'no privilege: wrong secret type'],
    [48009, 'configuration', 'contact-sync secret may not read details'],
    [45024, 'configuration', 'account limit'],
    [60005, 'permanent', 'department still has members: what is left inside decides (dept-removal.ts)'],
    [60006, 'permanent', 'department still has children: what is left inside decides (dept-removal.ts)'],
    [60104, 'permanent', 'mobile taken'],
    [60106, 'permanent', 'email taken'],
    [60112, 'permanent', 'bad name'],
    [60129, 'permanent', 'mobile and email both empty'],
    [60132, 'permanent', 'is_leader_in_dept length mismatch'],
    [60003, 'permanent', 'department not found (outside deletes)'],
    [60008, 'permanent', 'department exists'],
    [40003, 'permanent', 'invalid userid'],
    [ERRCODE_PROTOCOL, 'retryable', 'an answer not of the documented shape (a proxy in between)'],
    [404, 'permanent', 'not a WeCom errcode'],
    [600, 'permanent', 'just past the HTTP 5xx range'],
  ];
  it.each(table)('%i is %s (%s)', (errcode, expected) => {
    expect(classifyWeComError(errcode)).toBe(expected);
  });
});

describe('callerIpFrom60020', () => {
  it('finds the IP in the errmsg', () => {
    expect(
      callerIpFrom60020(
        'not allow to access from your ip, hint: [1655775812_2_8d4fa6b0a2f6a5a95b7e5b2cbb1d1e0a], from ip: 52.81.10.20, more info at https://open.work.weixin.qq.com/devtool/query?e=60020',
      ),
    ).toBe('52.81.10.20');
    expect(callerIpFrom60020('not allow to access from your ip, from ip:2001:db8::1, more info')).toBe('2001:db8::1');
  });

  it('answers undefined when there is none', () => {
    expect(callerIpFrom60020('not allow to access from your ip')).toBeUndefined();
  });
});

describe('describeWeComConfigError', () => {
  it('names the IP to trust for 60020', () => {
    expect(describeWeComConfigError(60020, 'not allow to access from your ip, from ip: 203.0.113.7, more info')).toMatch(
      /add the caller IP 203\.0\.113\.7 to WeCom's trusted IPs/,
    );
    // Without an IP in the message it still says what to do.
    expect(describeWeComConfigError(60020)).toMatch(/trusted IPs/);
  });

  it('tells what to fix for each configuration errcode', () => {
    expect(describeWeComConfigError(40001)).toMatch(/WECOM_CONTACT_SECRET/);
    expect(describeWeComConfigError(40013)).toMatch(/WECOM_CORP_ID/);
    expect(describeWeComConfigError(48002)).toMatch(/contact-sync secret/);
    expect(describeWeComConfigError(60011)).toMatch(/contact-sync secret/);
  });

  it('has a description for every configuration errcode and none for the others', () => {
    for (let errcode = -3; errcode < 400_000; errcode++) {
      const described = describeWeComConfigError(errcode) !== undefined;
      if (described !== (classifyWeComError(errcode) === 'configuration')) {
        throw new Error(`errcode ${errcode}: classified ${classifyWeComError(errcode)}, described ${described}`);
      }
    }
  });
});
