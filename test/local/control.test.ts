/**
 * npm start's control routes over real HTTP: the token they want, the status they give (settings
 * only in sandbox mode), one reconcile at a time, and the control file the commands find them by.
 */

import { mkdtempSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { composeLocalService, type LocalService } from '../../lib/compose/local';
import { controlFilePath, controlRoutes, newControlToken, readControlFile, removeControlFile, writeControlFile } from '../../lib/local/control';
import { LocalControl } from '../../lib/local/control-client';
import { startDevServer } from '../../lib/local/dev-server';
import { createMemoryLogger } from '../../lib/log';

let service: LocalService;
let server: Server;
let url: string;
const token = newControlToken();
const STATE_FILE = join(mkdtempSync(join(tmpdir(), 'control-')), 'state.json');

beforeAll(async () => {
  service = await composeLocalService({}, { sandbox: true, logger: createMemoryLogger() });
  const routes = controlRoutes(service, { token, callbackUrl: 'http://127.0.0.1:1/dingtalk/callback' });
  ({ server, url } = await startDevServer(routes, 0));
  writeControlFile(controlFilePath(STATE_FILE), { url, token, pid: process.pid });
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await service.close();
});

it('refuses a request without the token, or with another', async () => {
  for (const authorization of [undefined, 'Bearer nope', `Bearer ${token}x`]) {
    const res = await fetch(`${url}/local/status`, { headers: authorization ? { authorization } : {} });
    expect(res.status).toBe(401);
  }
  const start = await fetch(`${url}/local/reconcile`, { method: 'POST', body: '{}' });
  expect(start.status).toBe(401);
});

it('the control file is readable by its user only, and leads the commands to the server', async () => {
  const path = controlFilePath(STATE_FILE);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(readControlFile(path)).toEqual({ url, token, pid: process.pid });
  const found = await LocalControl.find({ STATE_FILE });
  expect(found?.status).toMatchObject({ sandbox: true, maxSkewSeconds: 300, queue: { depth: 0, deadLetters: 0 } });
  expect(found?.status.settings).toMatchObject({ DINGTALK_APP_KEY: 'dingsandboxappkey', WECOM_API_BASE: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
  expect(await LocalControl.find({ STATE_FILE: join(tmpdir(), 'no-such-folder', 'state.json') })).toBeUndefined();
});

it('a stopped server is not found, though its file is there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'control-stale-'));
  writeControlFile(controlFilePath(join(dir, 'state.json')), { url: 'http://127.0.0.1:9', token, pid: 1 });
  expect(await LocalControl.find({ STATE_FILE: join(dir, 'state.json') })).toBeUndefined();
  removeControlFile(controlFilePath(join(dir, 'state.json')));
  expect(readControlFile(controlFilePath(join(dir, 'state.json')))).toBeUndefined();
});

it('runs one reconcile at a time and reports how it ended', async () => {
  const { control } = (await LocalControl.find({ STATE_FILE }))!;
  // The run's first DingTalk read waits a second, so it is surely still running when the second start comes.
  service.sims!.dingtalk.delayMs('topapi/v2/department/get', 1000);
  const runId = await control.startReconcile({ dryRun: true });
  await expect(control.startReconcile({ dryRun: true })).rejects.toThrow('npm start answered HTTP 409: a reconcile is already running');
  let state = await control.reconcileState();
  for (let i = 0; i < 500 && state.running; i++) {
    await new Promise((r) => setTimeout(r, 10));
    state = await control.reconcileState();
  }
  service.sims!.dingtalk.clearFaults();
  expect(state).toMatchObject({ running: false, runId, dryRun: true, result: { report: { status: 'success', dryRun: true }, plan: { operations: 6 } } });
});
