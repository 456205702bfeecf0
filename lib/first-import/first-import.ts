/**
 * The first import as one command (`npm run first-import`): the reconcile in dry run, its plan
 * summary, a confirmation (or `--yes`), then the apply followed to its end with progress. After a
 * deploy WeCom holds only the people who happened to change; this brings in everyone else. Where
 * the reconcile runs (the stage's reconcile function, or inside `npm start`) is the runner's
 * business; this is the conversation with the operator.
 */
import type { RunReport } from '../ports';
import type { PlanSummary } from '../sync/plan-table';

export interface RunOutcome {
  report: RunReport;
  plan?: PlanSummary;
}

export interface ReconcileProgressUpdate {
  phase: string;
  done: number;
  total: number;
}

export interface ReconcileRunner {
  /** What runs it, for the first line: `the reconcile function of stage prod`, `npm start at …`. */
  readonly target: string;
  run(opts: { dryRun: boolean; allowDeletes: boolean }, onProgress: (p: ReconcileProgressUpdate) => void): Promise<RunOutcome>;
}

export interface FirstImportIo {
  out(line: string): void;
  progress(p: ReconcileProgressUpdate): void;
  /** Ends a progress line, if one is being drawn. */
  endProgress(): void;
  /** Asks a yes/no question; false when there is no one to answer. */
  confirm(question: string): Promise<boolean>;
}

export interface FirstImportOptions {
  /** Apply without asking. */
  yes: boolean;
  /** Let the apply disable or delete more than SYNC_MAX_DELETE_RATIO of what the sync owns. */
  allowDeletes: boolean;
}

/** Exit code 0 when the import was applied (with or without some entities failing), 1 otherwise. */
export async function firstImport(runner: ReconcileRunner, io: FirstImportIo, opts: FirstImportOptions): Promise<number> {
  io.out(`first import through ${runner.target}`);
  io.out('1. dry run: reading DingTalk and WeCom, writing nothing…');
  const dry = await runner.run({ dryRun: true, allowDeletes: opts.allowDeletes }, io.progress);
  io.endProgress();
  if (dry.report.status === 'failed') {
    io.out(`the dry run failed: ${dry.report.message ?? 'see the reconcile log'}`);
    io.out('npm run doctor names most causes; fix it and run this again');
    return 1;
  }
  if (dry.plan) io.out(formatPlanSummary(dry.plan));
  if (dry.report.status === 'blocked') {
    io.out(`the deletion guard would stop the apply: ${dry.report.message ?? ''}`);
    io.out(
      'check the app’s scope and SYNC_ROOT_DEPT_IDS; if these deletions are intended, run this again with --allow-deletes after the script’s -- (npm run first-import -- --allow-deletes)',
    );
    return 1;
  }
  const operations = dry.plan?.operations ?? 0;
  if (
    !opts.yes &&
    !(await io.confirm(
      `2. apply ${operations === 0 ? 'the run (nothing to change; it records the import and sweeps failed pushes)' : `these ${operations} operations to WeCom`}? [y/N] `,
    ))
  ) {
    io.out('not applied: nothing was written (to apply without asking, run it again with --yes after the script’s --: npm run first-import -- --yes)');
    return 1;
  }
  io.out('2. applying…');
  const applied = await runner.run({ dryRun: false, allowDeletes: opts.allowDeletes }, io.progress);
  io.endProgress();
  const { report } = applied;
  const counts = Object.entries(report.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  io.out(`status: ${report.status}${counts ? ` — ${counts}` : ''}`);
  if (report.message) io.out(report.message);
  for (const e of report.errors.slice(0, 20)) io.out(`  ${e.op} ${e.kind} ${e.id}: ${e.errcode ?? ''} ${e.message}`);
  if (report.errors.length > 20) io.out(`  … and ${report.errors.length - 20} more in the stored report`);
  for (const n of report.notices ?? []) io.out(`  note: ${n.kind} ${n.id}: ${n.message}`);
  if (report.status === 'success' || report.status === 'partial') {
    io.out('done: from now on, DingTalk’s events keep WeCom in step, and each reconcile repairs what they missed');
    return 0;
  }
  io.out(
    report.status === 'locked'
      ? 'another reconcile was running: run this again once it has finished'
      : 'fix what the message names (npm run doctor helps), then run this again',
  );
  return 1;
}

function formatPlanSummary(plan: PlanSummary): string {
  if (plan.operations === 0) return 'plan: nothing to do, WeCom already matches DingTalk (as far as its id lists show)';
  const by = Object.entries(plan.byOperation)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const rows = plan.sample.map((r) => `  ${r.op.padEnd(14)} ${r.entity}${r.wecomId ? ` → ${r.wecomId}` : ''}${r.changes ? `  ${r.changes}` : ''}`);
  const more = plan.operations > plan.sample.length ? [`  … and ${plan.operations - plan.sample.length} more`] : [];
  return [`plan: ${plan.operations} operations (${by})`, ...rows, ...more].join('\n');
}
