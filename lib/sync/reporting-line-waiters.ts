/**
 * People whose reporting line waits for their manager: written while that manager could not lead
 * in WeCom (not created yet, failed, disabled), so `direct_leader` left them out and the record
 * says whom (`leaderWithheld`). A manager created or re-enabled later sends no event for their
 * reports, so the write that makes the manager able to lead writes the people waiting for them
 * again, reporting line included, rather than leaving them to the next reconcile.
 *
 * A report and their manager may be written at the same moment by two workers: the report's
 * worker reads the manager before the manager's save, and the manager's worker lists who waits
 * before the report's save. So the report's worker looks at the manager once more after its own
 * save (`canLeadNow`): one of the two sees the other. The list is an index read, eventually
 * consistent on DynamoDB; the reconcile's pass over `leaderWithheld` (apply-plan.ts) stays the
 * backstop for what it misses.
 */
import type { Logger } from '../log';
import { mayLead } from './direct-leader';
import type { EntityStateBook } from './entity-state';
import { errorText } from './error-text';
import type { SyncOutcome } from './outcome';

export interface ReportingLineWaitersDeps {
  states: Pick<EntityStateBook, 'get' | 'awaitingLeader'>;
  /** Writes a waiting person again under their own lease, once their manager can lead (EntitySync.completeReportingLine). */
  resync: { completeReportingLine(userid: string): Promise<SyncOutcome> };
  logger?: Logger;
}

export class ReportingLineWaiters {
  constructor(private readonly deps: ReportingLineWaitersDeps) {}

  /** Whether `manager` can lead in WeCom now, read from the store again. */
  async canLeadNow(manager: string): Promise<boolean> {
    return mayLead(await this.deps.states.get('user', manager));
  }

  /**
   * `manager` has just become able to lead: each person waiting for them is written again. One
   * that fails or throws is logged and left waiting, for their next sync or the next reconcile;
   * it never fails the manager's own sync, which is done.
   */
  async complete(manager: string): Promise<void> {
    const { states, resync, logger } = this.deps;
    for (const userid of await states.awaitingLeader(manager)) {
      try {
        const outcome = await resync.completeReportingLine(userid);
        logger?.info('reporting line completed now that the manager can lead', { manager, userid, result: outcome.result });
      } catch (e) {
        logger?.warn('completing a reporting line failed; the next reconcile retries it', { manager, userid, error: errorText(e) });
      }
    }
  }
}
