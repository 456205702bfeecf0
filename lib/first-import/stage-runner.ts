/**
 * The reconcile of a deployed stage: its reconcile function, invoked and waited for (up to its
 * 15 minutes). While an apply runs, the progress it writes to the state table is polled; an
 * update counts only once the item differs from what it held before the invocation, so a
 * previous run's numbers are never shown as this one's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReconcileProgress } from '../aws/reconcile-progress';
import type { StageInspector } from '../aws/stage-inspector';
import type { RunReport } from '../ports';
import type { PlanSummary } from '../sync/plan-table';
import type { ReconcileProgressUpdate, ReconcileRunner, RunOutcome } from './first-import';

export class StageReconcileRunner implements ReconcileRunner {
  readonly target: string;

  constructor(
    private readonly inspector: StageInspector,
    private readonly stateTable: string,
    private readonly pollMs = 2000,
  ) {
    this.target = `${inspector.functionName('reconcile')} (${inspector.region})`;
  }

  async run(opts: { dryRun: boolean; allowDeletes: boolean }, onProgress: (p: ReconcileProgressUpdate) => void): Promise<RunOutcome> {
    const event = opts.dryRun ? { dryRun: true } : { allowDeletes: opts.allowDeletes };
    if (opts.dryRun) return outcomeOf(await this.inspector.invoke('reconcile', event));
    const item = this.inspector.progress(this.stateTable);
    const before = await item.get().catch(() => undefined);
    const stop = new AbortController();
    const follow = (async () => {
      let last: ReconcileProgress | undefined = before;
      while (!stop.signal.aborted) {
        await sleep(this.pollMs, undefined, { signal: stop.signal }).catch(() => undefined);
        const now = stop.signal.aborted ? undefined : await item.get().catch(() => undefined);
        if (!stop.signal.aborted && now && now.updatedAt !== last?.updatedAt) onProgress(now);
        last = now ?? last;
      }
    })();
    try {
      return outcomeOf(await this.inspector.invoke('reconcile', event));
    } finally {
      stop.abort();
      await follow;
    }
  }
}

/** The reconcile function's answer: its run report with the plan summary beside it. */
function outcomeOf(answer: unknown): RunOutcome {
  const { plan, ...report } = answer as RunReport & { plan?: PlanSummary };
  if (typeof report.status !== 'string' || !report.counts) throw new Error('the reconcile function answered something other than a run report');
  return { report, plan };
}
