/**
 * The day-one failures, injected into the sandbox simulators one at a time: the doctor (without
 * --stage, reading the environment, no npm start running) must name each one and its fix, and
 * pass everything else. The clean sandbox passes with no ✗.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../lib/doctor/check';
import { localDoctor } from '../../lib/doctor/local-doctor';
import { type Simulators, startSimulators } from '../../lib/sandbox/simulators';

let sims: Simulators;
// No npm start uses this folder: the doctor checks the environment alone.
const STATE_FILE = join(mkdtempSync(join(tmpdir(), 'doctor-')), 'state.json');

beforeAll(async () => {
  sims = await startSimulators();
});
afterAll(() => sims.stop());
afterEach(() => {
  sims.dingtalk.withheldFields = [];
  sims.dingtalk.setDeptOutOfScope(1, false, { push: false });
  sims.dingtalk.setDeptOutOfScope(2, false, { push: false });
  sims.wecom.requireTrustedIp = false;
  sims.wecom.trustedIps.clear();
});

async function doctor(env: Record<string, string> = {}, corpId?: string) {
  const report = await localDoctor({ env: { ...sims.env, STATE_FILE, ...env }, corpId });
  const byId = (id: string) => report.checks.find((c) => c.id === id) ?? expect.fail(`no check ${id} in ${report.checks.map((c) => c.id)}`);
  const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.id);
  return { report, byId, failed };
}

const failing = (detail: RegExp, fix: RegExp): Partial<CheckResult> => ({
  status: 'fail',
  detail: expect.stringMatching(detail),
  fix: expect.stringMatching(fix),
});

it('the clean sandbox passes: every platform check ✔, nothing ✗', async () => {
  const { report, failed } = await doctor();
  expect(failed).toEqual([]);
  expect(report.ok).toBe(true);
  const passed = report.checks.filter((c) => c.status === 'pass').map((c) => c.id);
  expect(passed).toEqual(
    expect.arrayContaining([
      'settings.worker',
      'settings.callback',
      'dingtalk.credentials',
      'dingtalk.scope.1',
      'dingtalk.fields.mobile',
      'dingtalk.fields.email',
      'dingtalk.owner-key',
      'wecom.credentials',
      'wecom.contact-secret',
      'wecom.trusted-ip',
    ]),
  );
  // Without npm start there is no callback, queue or report to look at: said, not failed.
  expect(report.checks.find((c) => c.id === 'callback.check-url')).toMatchObject({ status: 'skip', detail: expect.stringMatching(/npm start is not running/) });
});

describe('each injected failure is named with its fix', () => {
  it('a wrong DingTalk app secret (40089): credentials ✗, the checks that need them skipped', async () => {
    const { byId, failed } = await doctor({ DINGTALK_APP_SECRET: 'wrong' });
    expect(failed).toEqual(['dingtalk.credentials']);
    expect(byId('dingtalk.credentials')).toMatchObject(failing(/40089/, /DINGTALK_APP_KEY or DINGTALK_APP_SECRET is invalid/));
    expect(byId('dingtalk.scope').status).toBe('skip');
  });

  it('a wrong WeCom contact secret (40001): WeCom credentials ✗', async () => {
    const { byId, failed } = await doctor({ WECOM_CONTACT_SECRET: 'wrong' });
    expect(failed).toEqual(['wecom.credentials']);
    expect(byId('wecom.credentials')).toMatchObject(failing(/40001/, /WECOM_CONTACT_SECRET is wrong.*通讯录同步/));
  });

  it('a narrowed scope (50004) names the department, for the root and for a configured subtree', async () => {
    sims.dingtalk.setDeptOutOfScope(2, true, { push: false });
    const { byId, failed } = await doctor({ SYNC_ROOT_DEPT_IDS: '2,4' });
    expect(failed).toEqual(['dingtalk.scope.2']);
    expect(byId('dingtalk.scope.2')).toMatchObject(
      failing(/department 2 is outside the app's contact scope \(errcode 50004\)/, /通讯录权限范围.*department 2/),
    );
    expect(byId('dingtalk.scope.4').status).toBe('pass');

    sims.dingtalk.setDeptOutOfScope(1, true, { push: false });
    expect((await doctor()).byId('dingtalk.scope.1')).toMatchObject(failing(/department 1 .*50004/, /通讯录权限范围/));
  });

  it('withheld mobile permission: no sampled person has a mobile → names 手机号码信息', async () => {
    sims.dingtalk.withheldFields = ['mobile', 'state_code'];
    const { byId, failed } = await doctor();
    expect(failed).toEqual(['dingtalk.fields.mobile']);
    expect(byId('dingtalk.fields.mobile')).toMatchObject(failing(/none of the 3 people sampled comes with a mobile/, /grant 手机号码信息/));
  });

  it('withheld email permission is a note naming 邮箱等个人信息, not a ✗ (many companies keep no emails)', async () => {
    sims.dingtalk.withheldFields = ['email', 'org_email'];
    const { byId, failed } = await doctor();
    expect(failed).toEqual([]);
    expect(byId('dingtalk.fields.email')).toMatchObject({ status: 'note', fix: expect.stringMatching(/邮箱等个人信息/) });
  });

  it("an app's secret instead of the contact-sync one (48002)", async () => {
    const { byId, failed } = await doctor({ WECOM_CONTACT_SECRET: sims.wecom.appSecret });
    expect(failed).toEqual(['wecom.contact-secret']);
    expect(byId('wecom.credentials').status).toBe('pass');
    expect(byId('wecom.contact-secret')).toMatchObject(failing(/48002.*not the contact-sync secret/, /管理工具 → 通讯录同步.*API编辑通讯录/));
  });

  it('60011 on the id list is read the same way', async () => {
    sims.wecom.failNext('user/list_id', 60011);
    expect((await doctor()).byId('wecom.contact-secret')).toMatchObject(failing(/60011/, /通讯录同步/));
  });

  it('an untrusted IP (60020) names the IP WeCom saw and 企业可信IP', async () => {
    sims.wecom.requireTrustedIp = true;
    const { byId, failed } = await doctor();
    expect(failed).toEqual(['wecom.trusted-ip']);
    expect(byId('wecom.trusted-ip')).toMatchObject(failing(/60020.*127\.0\.0\.1/, /add 127\.0\.0\.1 to 企业可信IP/));
    expect(byId('wecom.contact-secret').status).toBe('skip');
    sims.wecom.trustedIps.add('127.0.0.1');
    expect((await doctor()).failed).toEqual([]);
  });

  it('a wrong owner key; a CorpId owner key passes only when --corp-id names it', async () => {
    const { byId, failed } = await doctor({ DINGTALK_OWNER_KEY: 'dingotherapp' });
    expect(failed).toEqual(['dingtalk.owner-key']);
    expect(byId('dingtalk.owner-key')).toMatchObject(failing(/not the AppKey/, /AppKey.*register_call_back.*--corp-id/));
    expect((await doctor({ DINGTALK_OWNER_KEY: 'dingcorp' }, 'dingcorp')).failed).toEqual([]);
    expect((await doctor({ DINGTALK_OWNER_KEY: 'dingcorp' }, 'dingothercorp')).byId('dingtalk.owner-key').detail).toMatch(/nor the CorpId given/);
  });

  it('missing and invalid settings name the variable', async () => {
    const { byId } = await doctor({ WECOM_CORP_ID: '', SYNC_ROOT_DEPT_IDS: 'x' });
    expect(byId('settings.WECOM_CORP_ID')).toMatchObject(failing(/not set/, /set WECOM_CORP_ID/));
    expect(byId('settings.SYNC_ROOT_DEPT_IDS')).toMatchObject(failing(/SYNC_ROOT_DEPT_IDS must be/, /SYNC_ROOT_DEPT_IDS/));
  });
});
