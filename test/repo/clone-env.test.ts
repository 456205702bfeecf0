/**
 * The fresh-clone check runs the clone as the user's shell would: nothing of this checkout's
 * node_modules/.bin on PATH, so a tool the clone failed to install cannot be borrowed from here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cloneEnvironment } from './clone-env';

const root = new URL('../../', import.meta.url).pathname;
const workspace = mkdtempSync(join(tmpdir(), 'clone-env-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

it('a clone cannot reach this checkout’s tools', () => {
  const clone = join(workspace, 'dingtalk-wecom-sync');
  execFileSync('git', ['clone', '--quiet', root, clone]);
  // The environment test/repo/fresh-clone.test.ts runs the clone's `npm ci` and `npm test` in.
  const env = cloneEnvironment(root, { FRESH_CLONE_CHECK: 'skip' });
  // Nothing is installed in the clone, so an npm script there must not find these.
  const found = spawnSync('npm', ['exec', '--offline', '-c', 'for t in node biome tsc knip vitest; do command -v $t; done'], {
    cwd: clone,
    env,
    encoding: 'utf8',
  });
  const borrowed = found.stdout.split('\n').filter((line) => line.startsWith(root));
  expect(borrowed).toEqual([]);
  // The check can fail: with this run's own environment, the tools are borrowed.
  const leaky = spawnSync('npm', ['exec', '--offline', '-c', 'command -v biome'], { cwd: clone, env: process.env, encoding: 'utf8' });
  expect(leaky.stdout.startsWith(root)).toBe(true);
}, 60_000);
