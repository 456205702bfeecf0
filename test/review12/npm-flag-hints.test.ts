/**
 * review12: the commands' hints for a local run say `npm run first-import --allow-deletes` and
 * "run with --yes"; typed that way, npm takes the flag as its own config and the script never
 * sees it (npm 11: `npm run first-import --yes` still asks, and answers no without a TTY).
 * A flag for the script needs `--` after the script name.
 */
import { expect, it } from 'vitest';
import { deploymentChecks } from '../../lib/doctor/deployment-checks';
import { firstImport, type ReconcileRunner } from '../../lib/first-import/first-import';

it('the doctor’s fix for a blocked import is a command npm passes --allow-deletes through', () => {
  const [, , imported] = deploymentChecks({
    deadLetters: 0,
    redriveHint: '',
    schedule: { state: 'local' },
    latestReport: { runId: 'r', startedAt: 1, finishedAt: 2, status: 'blocked', dryRun: false, counts: {}, errors: [], message: 'too many deletes' },
    firstImportCommand: 'npm run first-import', // as local-doctor.ts passes it
  });
  expect(imported.fix).not.toMatch(/npm run first-import --allow-deletes/);
});

it('“not applied” names a --yes that reaches the script (npm run first-import -- --yes)', async () => {
  const lines: string[] = [];
  const runner: ReconcileRunner = {
    target: 'npm start',
    run: async () => ({
      report: { runId: 'r', startedAt: 1, finishedAt: 2, status: 'success', dryRun: true, counts: {}, errors: [] },
      plan: { operations: 1, byOperation: { create_user: 1 }, sample: [] },
    }),
  };
  const code = await firstImport(
    runner,
    { out: (l) => lines.push(l), progress: () => {}, endProgress: () => {}, confirm: async () => false },
    { yes: false, allowDeletes: false },
  );
  expect(code).toBe(1);
  expect(lines.join('\n')).toMatch(/-- --yes/);
});
