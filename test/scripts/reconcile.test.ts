/**
 * `npm run reconcile` as an operator runs it: a dry run against freshly seeded simulators prints
 * the plan and writes nothing; wrong options and missing credentials stop it with one line.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

async function reconcile(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/reconcile.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 60_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

describe('npm run reconcile', () => {
  it('--sandbox --dry-run prints the plan for the seeded organisation and writes nothing', async () => {
    const { code, out } = await reconcile(['--sandbox', '--dry-run']);
    expect(code).toBe(0);
    expect(out).toMatch(/create_user/);
    expect(out).toMatch(/status: success \(dry run\)/);
  });

  it('--sandbox --apply imports the seeded organisation', async () => {
    const { code, out } = await reconcile(['--sandbox', '--apply']);
    expect(code).toBe(0);
    expect(out).toMatch(/status: success — .*create_user 3/);
  });

  it('refuses anything but exactly one of --dry-run and --apply, with the usage', async () => {
    for (const args of [[], ['--dry-run', '--apply'], ['--bogus']]) {
      const { code, out } = await reconcile(args);
      expect(code).toBe(2);
      expect(out).toMatch(/^reconcile: .*\nusage: npm run reconcile/);
    }
  });

  it('without credentials names the first missing one and suggests the sandbox', async () => {
    const { code, out } = await reconcile(['--dry-run']);
    expect(code).toBe(2);
    expect(out).toMatch(/^reconcile: configuration: DINGTALK_APP_KEY is not set .*\(or try --sandbox\)$/m);
  });
});
