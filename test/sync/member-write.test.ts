/**
 * One person's member written to WeCom idempotently (lib/sync/member-write.ts), against the WeCom
 * simulator over HTTP: what each starting point in WeCom turns into.
 */
import { afterEach, expect, it } from 'vitest';
import { createMemoryLogger } from '../../lib/log';
import type { DingTalkUser, EntityState, WeComUserPayload } from '../../lib/ports';
import { WeComSimulator } from '../../lib/sandbox/wecom-sim';
import { writeMember } from '../../lib/sync/member-write';
import { resetWeComTokenCache, WeComApi } from '../../lib/wecom/api';

let wc: WeComSimulator | undefined;
afterEach(async () => {
  await wc?.stop();
  wc = undefined;
  resetWeComTokenCache();
});

async function weCom() {
  wc = new WeComSimulator({ rateLimitPerMinute: null });
  const baseUrl = await wc.start(0);
  return { wc, api: new WeComApi({ corpId: wc.corpId, secret: wc.contactSecret, baseUrl, logger: createMemoryLogger() }) };
}

const user: DingTalkUser = { userid: 'zhangsan', name: '张三', mobile: '13800000001', dept_id_list: [1] };
const payload: WeComUserPayload = { userid: 'zhangsan', name: '张三', department: [1], mobile: '+86 13800000001', enable: 1, to_invite: false };
const ours: EntityState = { kind: 'user', id: 'zhangsan', wecomId: 'zhangsan', owned: true, status: 'synced', updatedAt: 0, version: 1 };

it('creates a member WeCom does not have', async () => {
  const { wc, api } = await weCom();
  expect(await writeMember(api, user, payload, undefined)).toEqual({ result: 'created' });
  expect(wc.getUser('zhangsan')).toMatchObject({ name: '张三', department: [1] });
});

it('updates the member it owns', async () => {
  const { wc, api } = await weCom();
  wc.seedUser({ userid: 'zhangsan', name: '旧名', department: [1], mobile: '+86 13800000001' });
  expect(await writeMember(api, user, payload, ours)).toEqual({ result: 'updated' });
  expect(wc.getUser('zhangsan')?.name).toBe('张三');
  expect(wc.calls['user/create'] ?? 0).toBe(0);
});

it('creates again a member it owns that was removed in WeCom by hand (60111 on update)', async () => {
  const { wc, api } = await weCom();
  expect(await writeMember(api, user, payload, ours)).toEqual({ result: 'created' });
  expect(wc.calls['user/update']).toBe(1);
  expect(wc.getUser('zhangsan')?.name).toBe('张三');
});

it('takes over a member with exactly this userid (60102 on create), sending no invitation with the update', async () => {
  const { wc, api } = await weCom();
  wc.seedUser({ userid: 'zhangsan', name: '旧名', department: [1], mobile: '+86 13800000001' });
  const updates: string[] = [];
  wc.setFaultPolicy((call) => void (call.api === 'user/update' && updates.push(call.body)));
  expect(await writeMember(api, user, { ...payload, to_invite: true }, undefined)).toEqual({ result: 'adopted' });
  expect(wc.getUser('zhangsan')?.name).toBe('张三');
  // An invitation belongs to a create only: the update that takes the member over asks none.
  expect(updates).toHaveLength(1);
  expect(JSON.parse(updates[0]!)).not.toHaveProperty('to_invite');
});

it('never takes over a member spelled differently (WeCom matches userids ignoring case): names it instead', async () => {
  const { wc, api } = await weCom();
  wc.seedUser({ userid: 'ZhangSan', name: '别人', department: [1], mobile: '+86 13800000009' });
  expect(await writeMember(api, user, payload, undefined)).toEqual({ caseConflict: 'ZhangSan' });
  expect(wc.getUser('ZhangSan')?.name).toBe('别人');
  expect(wc.calls['user/update'] ?? 0).toBe(0);
});
