/**
 * The scripts' shared option handling (scripts/cli.ts `optionsOrHelp`): `--help` prints the usage
 * and does nothing else; an option the script does not know exits with the script's failure
 * code, the parser's line and the usage, never a stack trace.
 */
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/run-script';

const run = (script: string, args: string[]) => runScript(script, args);

describe.each([
  ['doctor', 2],
  ['first-import', 2],
  ['simulate', 1],
])('npm run %s', (script, failureCode) => {
  it('--help prints the usage and exits 0', async () => {
    const { code, out } = await run(script, ['--help']);
    expect(code).toBe(0);
    expect(out.trim().split('\n')[0]).toMatch(new RegExp(`^usage: npm run ${script}`));
  });

  it('an unknown option exits with the script’s code, the parser’s line and the usage', async () => {
    const { code, out } = await run(script, ['--bogus']);
    expect(code).toBe(failureCode);
    expect(out).toContain(`${script}: Unknown option '--bogus'`);
    expect(out).toContain(`usage: npm run ${script}`);
    expect(out).not.toMatch(/\n\s+at /);
  });
});
