/**
 * The throttle metric: every answer that says "too many calls" is told to `onThrottle`, from
 * either platform, by errcode or by HTTP status, before the error goes on as it always did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DingTalkApi } from '../../lib/dingtalk/api';
import { type Simulators, startSimulators } from '../../lib/sandbox/simulators';
import { WeComApi } from '../../lib/wecom/api';

let sims: Simulators;
beforeAll(async () => {
  sims = await startSimulators();
});
afterAll(() => sims.stop());

describe('onThrottle', () => {
  it('hears DingTalk’s 90018 and HTTP 429, and WeCom’s 45009, 45033 and HTTP 429, but not other failures', async () => {
    const heard: string[] = [];
    const onThrottle = (platform: string, api: string) => heard.push(`${platform} ${api}`);
    const { dingtalk: dt, wecom: wc } = sims;
    const throttleDelaysMs = [10, 10, 10]; // what is heard, not how long the clients wait
    const dingtalk = new DingTalkApi({ appKey: dt.appKey, appSecret: dt.appSecret, baseUrl: dt.url, onThrottle, throttleDelaysMs });
    const wecom = new WeComApi({ corpId: wc.corpId, secret: wc.contactSecret, baseUrl: wc.url, onThrottle, throttleDelaysMs });
    dt.failNext('topapi/v2/user/get', 90018);
    dt.failNextHttp('topapi/v2/user/get', 429);
    dt.failNext('topapi/v2/user/get', 50002);
    for (let i = 0; i < 3; i++) await dingtalk.getUser('zhangsan').catch(() => undefined);
    wc.failNext('department/simplelist', 45009);
    wc.failNext('department/simplelist', 45033);
    wc.failNextHttp('department/simplelist', 429);
    wc.failNextHttp('department/simplelist', 502);
    for (let i = 0; i < 4; i++) await wecom.listDepts().catch(() => undefined);
    expect(heard).toEqual([
      'dingtalk topapi/v2/user/get',
      'dingtalk topapi/v2/user/get',
      'wecom department/simplelist',
      'wecom department/simplelist',
      'wecom department/simplelist',
    ]);
  });
});
