/**
 * What a new user does: clone the repository into an empty folder (nothing beside it), then
 * `npm ci && npm test`. Runs the committed HEAD, as a clone would; the run inside the clone
 * skips this file (FRESH_CLONE_CHECK=skip) rather than cloning itself again.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const inner = process.env.FRESH_CLONE_CHECK === 'skip';
const workspace = inner ? '' : mkdtempSync(join(tmpdir(), 'fresh-clone-'));

afterAll(() => {
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe.skipIf(inner)('a fresh clone', () => {
  it('installs from the lockfile and passes npm test with nothing beside it', () => {
    const clone = join(workspace, 'dingtalk-wecom-sync');
    execFileSync('git', ['clone', '--quiet', root, clone]);
    expect(existsSync(join(clone, '..', 'shared'))).toBe(false);
    const env = { ...process.env, FRESH_CLONE_CHECK: 'skip', CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' };
    const install = spawnSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, env, encoding: 'utf8' });
    expect(install.status, install.stderr.slice(-2000).replace(/^/gm, '  | ')).toBe(0);
    const test = spawnSync('npm', ['test'], { cwd: clone, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing terminal colour codes is the point
    const output = (test.stdout + test.stderr).replace(/\x1b\[[0-9;]*m/g, '');
    // Quoted with a margin, so the inner run's summary is not read as this run's by .ci/run.
    const quoted = (text: string) => text.slice(-4000).replace(/^/gm, '  | ');
    expect(test.status, quoted(output)).toBe(0);
    expect(output).toMatch(/Tests\s+\d+ passed/);
    // The runtime is the node@22 devDependency, so the AWS SDK has no end-of-support warning to give.
    expect(output).not.toMatch(/upgrade to node|end-of-support|NodeDeprecationWarning/i);
  }, 600_000);
});
