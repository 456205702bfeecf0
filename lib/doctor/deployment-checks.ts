/**
 * The doctor's checks of the running service: the dead-letter queue, the reconcile schedule, and
 * whether a first import has happened (the state store's latest reconcile report). The target
 * (a deployed stage, or `npm start`) gathers the facts; this turns them into results. Pure.
 */
import type { RunReport } from '../ports';
import { type CheckResult, check } from './check';

/**
 * What the target found; a fact it could not read is the Error that stopped it (the check then
 * fails naming it: the doctor needs the same read access an operator has).
 */
export interface DeploymentStatus {
  /** Messages in the dead-letter queue (visible and in flight). */
  deadLetters: number | Error;
  /** How to get dead letters going again once the cause is fixed, for this target. */
  redriveHint: string;
  /** `local`: `npm start`, which has no schedule. */
  schedule: { state: 'enabled' | 'disabled' | 'local' | 'missing'; expression?: string } | Error;
  /** The latest applied reconcile (dry runs leave none). */
  latestReport: RunReport | undefined | Error;
  /** The first-import command for this target. */
  firstImportCommand: string;
}

export function deploymentChecks(s: DeploymentStatus): CheckResult[] {
  return [deadLetters(s), schedule(s), firstImport(s)];
}

const unreadable = (what: string, e: Error) => `could not read ${what}: ${e.name}: ${e.message}`;
const READ_FIX = 'run the doctor with AWS credentials that may read the stack (as for serverless deploy)';

function deadLetters(s: DeploymentStatus): CheckResult {
  const c = check('queue', 'dead-letters', 'dead-letter queue');
  if (s.deadLetters instanceof Error) return c.fail(unreadable('the dead-letter queue', s.deadLetters), READ_FIX);
  if (s.deadLetters === 0) return c.pass('empty');
  return c.fail(
    `${s.deadLetters} change message${s.deadLetters === 1 ? '' : 's'} failed 5 times and wait in the dead-letter queue`,
    `the sync's error log names the cause (often a ✗ above: a secret, the trusted IP, the app's scope); fix it, then ${s.redriveHint}`,
  );
}

function schedule(s: DeploymentStatus): CheckResult {
  const c = check('queue', 'schedule', 'reconcile schedule');
  if (s.schedule instanceof Error) return c.fail(unreadable('the schedule rule', s.schedule), READ_FIX);
  const every = s.schedule.expression ? ` (${s.schedule.expression})` : '';
  switch (s.schedule.state) {
    case 'enabled':
      return c.pass(`enabled${every}: drift and DingTalk's failed pushes are repaired on every run`);
    case 'disabled':
      return c.note(
        `disabled${every}: drift and DingTalk's failed pushes are repaired only when a reconcile is run by hand`,
        'set the stage param reconcileEnabled: true in serverless.yml and deploy, unless this is meant',
      );
    case 'missing':
      return c.fail('the stack has no reconcile schedule rule', 'deploy this version of serverless.yml');
    case 'local':
      return c.note(
        'npm start has no schedule: drift is repaired when a reconcile is run',
        'npm run reconcile -- --apply (stop npm start first), or npm run first-import',
      );
  }
}

/**
 * The command with a flag for the script itself: npm takes a flag before `--` as its own
 * configuration and the script never sees it, so `--` is added unless the command has one.
 */
function withScriptFlag(command: string, flag: string): string {
  return command.split(' ').includes('--') ? `${command} ${flag}` : `${command} -- ${flag}`;
}

function firstImport(s: DeploymentStatus): CheckResult {
  const c = check('queue', 'first-import', 'first import (latest reconcile report)');
  const r = s.latestReport;
  if (r instanceof Error) return c.fail(unreadable('the state table', r), READ_FIX);
  if (!r) {
    return c.note(
      'no reconcile has been applied yet: WeCom holds only the people and departments that changed since the service started',
      `run the first import: ${s.firstImportCommand}`,
    );
  }
  const when = new Date(r.finishedAt).toISOString();
  const counts = Object.entries(r.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const summary = `last reconcile ${when}: ${r.status}${counts ? ` (${counts})` : ''}`;
  switch (r.status) {
    case 'success':
      return c.pass(summary);
    case 'partial':
      return c.note(`${summary}; ${r.errors.length} entities failed or are blocked`, 'the report lists them with their errcodes (README: Troubleshooting)');
    case 'locked':
      return c.note(`${summary}: ${r.message ?? 'another run held the lock'}`);
    case 'blocked':
      return c.fail(
        `${summary}: ${r.message ?? 'stopped by the deletion guard'}`,
        `check the app's scope and SYNC_ROOT_DEPT_IDS; if the deletions are intended, run ${withScriptFlag(s.firstImportCommand, '--allow-deletes')}`,
      );
    case 'failed':
      return c.fail(`${summary}: ${r.message ?? 'see its log'}`, `fix what the message names (often a ✗ above), then ${s.firstImportCommand}`);
  }
}
