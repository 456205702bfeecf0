/**
 * Day one in the sandbox, as a new user runs it: `npm start` with no credentials, then
 * `npm run doctor` (all ✔, exit 0), `npm run first-import` (dry run, refused without a terminal or
 * --yes, then applied), the doctor again (the first import is now on record), and the doctor with
 * three wrong values in the environment (three ✗, exit 1). Real child processes throughout.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DoctorReport } from '../../lib/doctor/check';
import { type NpmStart, startNpmStart } from '../support/npm-start';
import { runScript } from '../support/run-script';

const STATE_FILE = join(mkdtempSync(join(tmpdir(), 'npm-start-doctor-')), 'state.json');
const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'warn', STATE_FILE };
let npmStart: NpmStart;

beforeAll(async () => {
  npmStart = await startNpmStart(/npm run first-import/, env);
}, 60_000);

afterAll(() => npmStart?.stop());

/** Runs a script as `npm run` would, with stdin closed (no terminal to confirm on). */
const run = (script: string, args: string[] = [], extra: Record<string, string> = {}) => runScript(script, args, { ...env, ...extra });

it('npm start prints the doctor and first-import commands', () => {
  expect(npmStart.output()).toMatch(/npm run doctor\n\s+npm run first-import/);
});

it('the doctor passes the sandbox npm start: every item ✔ or a note, exit 0', async () => {
  const { code, stdout } = await run('doctor');
  expect(stdout).toMatch(/^doctor: npm start \(sandbox\), callback http:\/\/127\.0\.0\.1:\d+\/dingtalk\/callback/);
  expect(stdout).not.toMatch(/^\s+✗ /m);
  for (const line of ['✔ DingTalk app credentials', '✔ WeCom trusts the caller IP', '✔ callback answers DingTalk’s URL check', '✔ dead-letter queue: empty']) {
    expect(stdout).toContain(line);
  }
  expect(stdout).toMatch(
    /– first import \(latest reconcile report\): no reconcile has been applied yet[^\n]*\n\s+next: run the first import: npm run first-import/,
  );
  expect(stdout).toMatch(/\d+ ✔ {2}0 ✗/);
  expect(code).toBe(0);
}, 60_000);

it('first-import: the dry run and its plan; without a terminal or --yes nothing is applied; with --yes it is, and the doctor sees it', async () => {
  const refused = await run('first-import');
  expect(refused.code).toBe(1);
  expect(refused.stdout).toContain('plan: 6 operations (create_dept 3, create_user 3)');
  expect(refused.stdout).toContain('not applied: nothing was written');
  const wecom = () => fetch(npmStart.output().match(/curl (\S+)/)![1]!).then((r) => r.json() as Promise<{ users: unknown[] }>);
  expect((await wecom()).users).toEqual([]);

  const applied = await run('first-import', ['--yes']);
  expect(applied.stdout).toContain('status: success — create_dept 3, create_user 3');
  expect(applied.code).toBe(0);
  expect((await wecom()).users).toHaveLength(3);

  const { code, stdout } = await run('doctor', ['--json']);
  const report = JSON.parse(stdout) as DoctorReport;
  expect(report.checks.find((c) => c.id === 'queue.first-import')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/success/) });
  expect(code).toBe(0);
}, 90_000);

it('three wrong values in the environment: three ✗ with their fixes, exit 1', async () => {
  const { code, stdout } = await run('doctor', [], {
    SYNC_ROOT_DEPT_IDS: '1,404',
    WECOM_CONTACT_SECRET: 'sandbox-self-built-app-secret',
    DINGTALK_TOKEN: 'notthecallbackstoken',
  });
  const failures = stdout.split('\n').filter((l) => l.startsWith('  ✗ '));
  expect(failures).toEqual([
    expect.stringMatching(/✗ department 404 visible to the app \(SYNC_ROOT_DEPT_IDS\): department 404 does not exist in DingTalk \(errcode 60003\)/),
    expect.stringMatching(/✗ the secret is the contact-sync one \(user\/list_id\): user\/list_id answered 48002/),
    expect.stringMatching(/✗ callback answers DingTalk’s URL check: .*HTTP 401/),
  ]);
  expect(stdout).toMatch(/fix: correct SYNC_ROOT_DEPT_IDS/);
  expect(stdout).toMatch(/fix: in WeCom admin console → 管理工具 → 通讯录同步, enable API编辑通讯录/);
  expect(stdout).toMatch(/fix: the callback's DINGTALK_TOKEN differs/);
  expect(code).toBe(1);
}, 60_000);
