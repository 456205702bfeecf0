/**
 * `npm run first-import [-- --stage <stage> [--region <region>]] [--yes] [--allow-deletes]`
 *
 * Day one's last step: the full reconcile in dry run, its plan, a confirmation (or --yes), then
 * the apply, followed to its end with progress.
 * - `--stage`: the stage's reconcile function (AWS credentials as for `serverless deploy`).
 * - without it: inside the running `npm start`, against its embedded store.
 * Exit 0 once applied, 1 when not applied or the run failed, 2 when it could not start.
 */
import { createInterface } from 'node:readline/promises';
import { defaultStageClients, StageInspector } from '../lib/aws/stage-inspector';
import { firstImport, type ReconcileProgressUpdate, type ReconcileRunner } from '../lib/first-import/first-import';
import { LocalReconcileRunner } from '../lib/first-import/local-runner';
import { StageReconcileRunner } from '../lib/first-import/stage-runner';
import { LocalControl } from '../lib/local/control-client';
import { type Cli, cli } from './cli';

const USAGE = 'usage: npm run first-import [-- --stage <stage> [--region <region>]] [--yes] [--allow-deletes]';

const command: Cli = cli('first-import', USAGE, 2);
// A declared function, so the compiler knows that code after a call to it does not run.
function fail(message: string): never {
  return command.fail(message);
}

async function runnerFor(stage: string | undefined, region: string | undefined): Promise<ReconcileRunner> {
  if (stage === undefined) {
    if (region !== undefined) fail('--region goes with --stage');
    const found = await LocalControl.find(process.env);
    if (!found) fail('npm start is not running here (no answer through .data/npm-start.json, or STATE_FILE’s folder): start it, or give --stage <stage>');
    return new LocalReconcileRunner(found.control);
  }
  const inspector = new StageInspector(stage, defaultStageClients(region));
  const outputs = await inspector
    .outputs()
    .catch((e: unknown) => fail(`cannot read stack ${inspector.stackName} in ${inspector.region}: ${(e as Error).message}`));
  if (!outputs.StateTableName) fail(`stack ${inspector.stackName} has no StateTableName output: deploy this version first`);
  return new StageReconcileRunner(inspector, outputs.StateTableName);
}

/** A redrawn progress line on a terminal; a plain line per phase and every few seconds otherwise. */
function progressLine() {
  const tty = process.stderr.isTTY;
  let drawn = false;
  let lastPhase = '';
  let lastPlain = 0;
  return {
    progress({ phase, done, total }: ReconcileProgressUpdate) {
      if (tty) {
        const filled = total > 0 ? Math.round((done / total) * 30) : 30;
        process.stderr.write(`\r   ${phase.padEnd(6)} [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${done}/${total}   `);
        drawn = true;
      } else if (phase !== lastPhase || done === total || Date.now() - lastPlain > 5000) {
        process.stderr.write(`   ${phase}: ${done}/${total}\n`);
        lastPlain = Date.now();
      }
      lastPhase = phase;
    },
    end() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

async function main(): Promise<void> {
  const args = command.optionsOrHelp({
    stage: { type: 'string' },
    region: { type: 'string' },
    yes: { type: 'boolean' },
    'allow-deletes': { type: 'boolean' },
  });
  if (!args) return;
  const runner = await runnerFor(args.stage, args.region);
  const line = progressLine();
  process.exitCode = await firstImport(
    runner,
    {
      out: (text) => process.stdout.write(`${text}\n`),
      progress: line.progress,
      endProgress: line.end,
      async confirm(question) {
        if (!process.stdin.isTTY) return false;
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        try {
          return /^y(es)?$/i.test((await rl.question(question)).trim());
        } finally {
          rl.close();
        }
      },
    },
    { yes: args.yes === true, allowDeletes: args['allow-deletes'] === true },
  );
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
