/**
 * `npm run reconcile -- --dry-run | --apply [--allow-deletes] [--rewrite-all] [--sandbox]`
 *
 * Runs the full reconcile from this machine with the DINGTALK_* / WECOM_* settings of the
 * environment, against the state the local server uses (.data/state.json, or STATE_TABLE in
 * DynamoDB when set). Failed-push sweep messages go to QUEUE_URL when set; otherwise they are
 * processed here by the same worker code once the run is done.
 * `--sandbox` runs against freshly seeded simulators instead, to see what a run looks like.
 *
 * Stop `npm start` before an --apply on the local state file: the embedded store is one process
 * per file, and two processes would overwrite each other's records.
 */
import { parseArgs } from 'node:util';
import { composeLocalService } from '../lib/compose/local';
import { drain } from '../lib/local/worker-loop';
import { createLogger } from '../lib/log';
import { formatPlanTable } from '../lib/sync/plan-table';
import { type ReconcileOptions, runReconcile } from '../lib/sync/reconcile';
import { type Cli, cli } from './cli';

const USAGE = 'usage: npm run reconcile -- (--dry-run | --apply) [--allow-deletes] [--rewrite-all] [--sandbox]';

const command: Cli = cli('reconcile', USAGE, 2);
const { parseOrFail, configOrFail } = command;
// A declared function, so the compiler knows that code after a call to it does not run.
function fail(message: string): never {
  return command.fail(message);
}

/** A one-line progress bar on a terminal; occasional plain lines otherwise (logs, CI). */
function progressReporter(): NonNullable<ReconcileOptions['onProgress']> & { end(): void } {
  const tty = process.stderr.isTTY;
  let lastPhase = '';
  let lastPlain = 0;
  const report = (phase: string, done: number, total: number) => {
    if (tty) {
      const width = 30;
      const filled = total > 0 ? Math.round((done / total) * width) : width;
      process.stderr.write(`\r${phase.padEnd(6)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}   `);
    } else if (phase !== lastPhase || done === total || Date.now() - lastPlain > 5000) {
      process.stderr.write(`${phase}: ${done}/${total}\n`);
      lastPlain = Date.now();
    }
    lastPhase = phase;
  };
  return Object.assign(report, { end: () => tty && process.stderr.write('\n') });
}

async function main(): Promise<void> {
  const args = parseOrFail(
    () =>
      parseArgs({
        options: {
          'dry-run': { type: 'boolean' },
          apply: { type: 'boolean' },
          'allow-deletes': { type: 'boolean' },
          'rewrite-all': { type: 'boolean' },
          sandbox: { type: 'boolean' },
        },
      }).values,
  );
  if (!!args['dry-run'] === !!args.apply) fail(`give exactly one of --dry-run and --apply\n${USAGE}`);

  const logger = createLogger('reconcile', { level: 'warn' });
  const service = await configOrFail(() => composeLocalService(process.env, { sandbox: args.sandbox === true, logger }), ' (or try --sandbox)');
  const { localQueue } = service;

  const progress = progressReporter();
  const { report, plan, timings } = await runReconcile(service.reconcileDeps(service.queue), {
    dryRun: !!args['dry-run'],
    allowDeletes: !!args['allow-deletes'],
    rewriteAll: !!args['rewrite-all'],
    onProgress: progress,
  });
  progress.end();

  if (plan && (args['dry-run'] || report.status === 'blocked')) process.stdout.write(`${formatPlanTable(plan.ops)}\n\n`);
  if (localQueue && localQueue.depth > 0) {
    const batches = await drain(localQueue, service.processBatch, 1000);
    process.stdout.write(`processed ${batches.reduce((n, b) => n + b.outcomes.length, 0)} changes from DingTalk's failed-push list\n`);
  }
  const counts =
    Object.entries(report.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'no operations';
  process.stdout.write(`status: ${report.status}${report.dryRun ? ' (dry run)' : ''} — ${counts}\n`);
  if (report.message) process.stdout.write(`${report.message}\n`);
  for (const e of report.errors.slice(0, 50)) process.stdout.write(`  ${e.op} ${e.kind} ${e.id}: ${e.errcode ?? ''} ${e.message}\n`);
  if (report.errors.length > 50) process.stdout.write(`  … and ${report.errors.length - 50} more (see the stored report)\n`);
  for (const n of report.notices ?? []) process.stdout.write(`  note: ${n.kind} ${n.id}: ${n.message}\n`);
  process.stdout.write(
    `time: ${Object.entries(timings)
      .map(([k, v]) => `${k} ${Math.round(v)} ms`)
      .join(', ')}\n`,
  );

  await service.close();
  process.exitCode = report.status === 'failed' || report.status === 'blocked' ? 1 : 0;
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
