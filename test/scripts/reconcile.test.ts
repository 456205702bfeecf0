/**
 * `npm run reconcile` as an operator runs it: a dry run against freshly seeded simulators prints
 * the plan and writes nothing; wrong options and missing credentials stop it with one line.
 */
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/run-script';

const reconcile = (args: string[], env: Record<string, string> = {}) => runScript('reconcile', args, env);

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
