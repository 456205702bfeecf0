/**
 * Typed as `npm run first-import --allow-deletes`, npm takes the flag as its own configuration
 * and the script never sees it: the doctor's fix must put `--` before a flag for the script.
 */
import { expect, it } from 'vitest';
import { type DeploymentStatus, deploymentChecks } from '../../lib/doctor/deployment-checks';

const blocked = (firstImportCommand: string): DeploymentStatus => ({
  deadLetters: 0,
  redriveHint: '',
  schedule: { state: 'local' },
  latestReport: { runId: 'r', startedAt: 1, finishedAt: 2, status: 'blocked', dryRun: false, counts: {}, errors: [], message: 'too many deletes' },
  firstImportCommand,
});

it('the fix for a blocked import is a command npm passes --allow-deletes through (npm start)', () => {
  const [, , imported] = deploymentChecks(blocked('npm run first-import')); // as local-doctor.ts passes it
  expect(imported?.fix).toContain('npm run first-import -- --allow-deletes');
});

it('the fix for a blocked import adds no second -- to a command that has one (a stage)', () => {
  const [, , imported] = deploymentChecks(blocked('npm run first-import -- --stage prod')); // as stage-doctor.ts passes it
  expect(imported?.fix).toContain('npm run first-import -- --stage prod --allow-deletes');
});
