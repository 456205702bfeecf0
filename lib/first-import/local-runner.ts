/**
 * The reconcile run inside `npm start`, against its embedded store, through its control routes:
 * started there, then followed by polling until it ends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalControl } from '../local/control-client';
import type { ReconcileProgressUpdate, ReconcileRunner, RunOutcome } from './first-import';

export class LocalReconcileRunner implements ReconcileRunner {
  readonly target: string;

  constructor(
    private readonly control: LocalControl,
    private readonly pollMs = 250,
  ) {
    this.target = `npm start at ${control.url} (its embedded store)`;
  }

  async run(opts: { dryRun: boolean; allowDeletes: boolean }, onProgress: (p: ReconcileProgressUpdate) => void): Promise<RunOutcome> {
    const runId = await this.control.startReconcile(opts);
    for (;;) {
      const state = await this.control.reconcileState();
      if (state.runId !== runId) throw new Error('npm start restarted or started another reconcile while this one ran');
      if (state.progress) onProgress(state.progress);
      if (!state.running) {
        if (state.error !== undefined || !state.result) throw new Error(`the reconcile in npm start crashed: ${state.error ?? 'no result'}`);
        return state.result;
      }
      await sleep(this.pollMs);
    }
  }
}
