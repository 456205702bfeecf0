/**
 * One run of the convergence property: the whole pipeline over HTTP on loopback (DingTalk
 * simulator → signed push → callback → in-process FIFO queue → worker → WeCom simulator, with
 * the embedded state store and a first import by the reconcile), then a storm, then the check.
 *
 * The storm: each change is applied in DingTalk and its events delivered as the scenario says —
 * duplicated, late (so out of order), or never (listed in DingTalk's failed-push list instead) —
 * while the worker takes a few batches now and then, WeCom fails a share of calls transiently
 * (-1, 45009, 502/503, a lost connection, a timeout after WeCom acted), and the worker is
 * restarted (a new EntitySync and worker on the same store and queue), possibly killed in the
 * middle of a batch. Then the queue is drained; a message that fails 5 receives is dead-lettered,
 * as SQS does.
 *
 * The check: with WeCom healthy again, one reconcile runs (plan, then the failed-push sweep; its
 * deletions allowed, as an organisation this small trips the deletion guard) and the queue is
 * drained; WeCom must then equal the oracle's reading of DingTalk (oracle.ts),
 * nothing of WeCom's own may have been touched, and no message may be lost. A message is lost
 * when it was dead-lettered and its entity still differs from DingTalk at the end: a dead letter
 * whose entity the reconcile repaired is counted, not lost (its change reached WeCom; the DLQ
 * alarm still tells the operator, and a redrive is harmless).
 *
 * Time: a clock the run moves by hand stands for SQS's. A batch with failures returns its
 * messages after the visibility timeout, so the clock moves 360 s (serverless.yml), which also
 * lets a killed worker's leases and claims expire as they would.
 */
import type { Server } from 'node:http';
import { composeSyncCore } from '../../compose/core';
import { composeLocalService } from '../../compose/local';
import { startDevServer } from '../../local/dev-server';
import { runOneBatch } from '../../local/worker-loop';
import { createMemoryLogger } from '../../log';
import type { Clock, EntityState } from '../../ports';
import { runReconcile } from '../../sync/reconcile';
import type { FaultPolicy } from '../faults';
import { randomFaults, WECOM_TRANSIENT_FAULTS } from '../random-faults';
import { SANDBOX_ENV } from '../seed';
import { killableStore } from './killable-store';
import { type Divergence, divergences } from './oracle';
import { type Change, OrgChanger, type OrgEvent } from './org-changes';
import { seedWeComOnly, touchOf } from './wecom-only';

/** How one change's events reach the callback. */
export interface Delivery {
  /** Extra deliveries of each event (0 … 3). */
  copies: number;
  /** Never delivered: listed in DingTalk's failed-push list instead. */
  drop: boolean;
  /** Delivered this many changes later (so after events of later changes). */
  delay: number;
  /** Worker batches taken after this change's turn. */
  work: number;
}

export interface Step {
  change: Change;
  delivery: Delivery;
}

/** A new worker replaces the old one after step `atStep` (modulo the steps); `crashAfter` kills the old one that many state-store calls into its next batch. */
export interface Restart {
  atStep: number;
  crashAfter: number | null;
}

export interface Scenario {
  steps: Step[];
  faultSeed: number;
  restarts: Restart[];
}

export interface ScenarioOptions {
  /** Share of WeCom calls that fail transiently during the storm. Default 0.2. */
  faultRate?: number;
  /**
   * Differences to set aside, by what differs (`direct_leader`, …): left out of the result's
   * divergences and of the judgement of lost messages alike.
   */
  ignore?: readonly string[];
}

export interface ScenarioResult {
  /** What happened, with resolved ids: the reproduction a failure prints. */
  trace: string[];
  divergences: Divergence[];
  /** Other broken promises: pushes refused, WeCom-only objects touched, messages lost, … */
  problems: string[];
  stats: Record<string, number>;
}

/** serverless.yml: the queue's visibility timeout and redrive policy. */
const VISIBILITY_TIMEOUT_MS = 360_000;
/** Far more than any scenario needs; reaching it means messages are failing for ever. */
const MAX_DRAIN_BATCHES = 50_000;

export async function runScenario(scenario: Scenario, opts: ScenarioOptions = {}): Promise<ScenarioResult> {
  const trace: string[] = [];
  const problems: string[] = [];
  const stats: Record<string, number> = { changes: 0, skipped: 0, events: 0, pushes: 0, late: 0, dropped: 0, batches: 0, restarts: 0, killed: 0 };
  let offset = 0;
  const clock: Clock & { advance(ms: number): void } = {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
  const logger = createMemoryLogger();
  const service = await composeLocalService(
    {},
    {
      sandbox: true,
      // Unpaced and unlimited: the storm's disturbances are its own (WeCom's transient faults,
      // 45009 among them); pacing under the platforms' limits is proven by bench:burst and the
      // rate-budget tests, and at 20 calls/s this run would take minutes.
      simulators: { dingtalk: { retryDelaysMs: [], rateLimitPerSecond: null }, wecom: { rateLimitPerMinute: null }, seed: false },
      overrides: { CALLBACK_MAX_SKEW_SECONDS: '300' },
      logger,
      clock,
    },
  );
  const { dingtalk: dt, wecom: wc } = service.sims!;
  const queue = service.localQueue!;
  const { server, url } = await startDevServer([{ method: 'POST', path: '/dingtalk/callback', handler: service.callbackHandler() }], 0);
  try {
    dt.setCallback({
      url: `${url}/dingtalk/callback`,
      token: SANDBOX_ENV.DINGTALK_TOKEN,
      aesKey: SANDBOX_ENV.DINGTALK_AES_KEY,
      ownerKey: SANDBOX_ENV.DINGTALK_OWNER_KEY,
    });
    const org = new OrgChanger(dt);
    org.seed();
    const wecomOnly = seedWeComOnly(wc, { takenLaterId: 1010 });
    const touches: string[] = [];
    const watch =
      (inner?: FaultPolicy): FaultPolicy =>
      (call) => {
        const touch = touchOf(call, wecomOnly);
        if (touch) touches.push(touch);
        return inner?.(call);
      };
    wc.setFaultPolicy(watch());

    let worker = newWorker();
    function newWorker() {
      const store = killableStore(service.store);
      // Throttled changes are not requeued (each receive counts), but the people waiting for a
      // manager are sent, as production's worker does.
      return { store, process: composeSyncCore(service.config, { store: store.store, clock, logger, waitingReportsTo: () => queue }).processBatch };
    }
    // As an operator who allowed the deletions: in an organisation this small, one storm's
    // departures and deleted departments exceed the deletion guard's share of what the sync owns.
    const reconcile = () => runReconcile(composeSyncCore(service.config, { store: service.store, clock, logger }).reconcileDeps(queue), { allowDeletes: true });
    const work = async (batches: number) => {
      for (let i = 0; i < batches && queue.depth > 0; i++) {
        stats.batches!++;
        const r = await runOneBatch(queue, worker.process);
        if (!r || r.response.batchItemFailures.length > 0) clock.advance(VISIBILITY_TIMEOUT_MS);
      }
    };

    const first = await reconcile();
    trace.push(`first import: ${first.report.status} ${JSON.stringify(first.report.counts)}`);
    if (first.report.status !== 'success') problems.push(`the first import ended ${first.report.status}: ${JSON.stringify(first.report.errors)}`);
    await work(MAX_DRAIN_BATCHES);

    const faults = randomFaults({ seed: scenario.faultSeed, rate: opts.faultRate ?? 0.2, faults: WECOM_TRANSIENT_FAULTS });
    wc.setFaultPolicy(watch(faults.policy));
    const restartAt = new Map(scenario.restarts.map((r) => [r.atStep % Math.max(1, scenario.steps.length), r]));
    const due = new Map<number, OrgEvent[]>();
    let dropped = 0;
    const deliver = async (slot: number) => {
      for (const event of due.get(slot) ?? []) {
        stats.pushes!++;
        const outcome = await dt.pushEvent(event.eventType, { userIds: event.userIds, deptIds: event.deptIds });
        if (!outcome.delivered) problems.push(`push ${describe(event)} was not delivered: ${outcome.errors.join('; ')}`);
      }
      due.delete(slot);
    };
    for (const [i, { change, delivery }] of scenario.steps.entries()) {
      const applied = org.apply(change);
      if (!applied) {
        stats.skipped!++;
      } else {
        stats.changes!++;
        stats[`op ${change.op}`] = (stats[`op ${change.op}`] ?? 0) + 1;
        for (const event of applied.events) {
          stats.events!++;
          if (delivery.drop) {
            dt.recordFailedPush(event.eventType, { userIds: event.userIds, deptIds: event.deptIds });
            dropped += (event.userIds?.length ?? 0) + (event.deptIds?.length ?? 0);
            continue;
          }
          const slot = i + delivery.delay;
          if (delivery.delay > 0) stats.late!++;
          due.set(slot, [...(due.get(slot) ?? []), ...Array.from({ length: 1 + delivery.copies }, () => event)]);
        }
        const how = delivery.drop ? 'dropped' : `×${1 + delivery.copies}${delivery.delay ? `, ${delivery.delay} late` : ''}`;
        trace.push(`#${i} ${applied.text} [${how}${delivery.work ? `, then ${delivery.work} batches` : ''}]`);
      }
      await deliver(i);
      await work(delivery.work);
      const restart = restartAt.get(i);
      if (restart) {
        stats.restarts!++;
        let killed = false;
        if (restart.crashAfter !== null && queue.depth > 0) {
          worker.store.dieAfter(restart.crashAfter);
          await work(1);
          clock.advance(VISIBILITY_TIMEOUT_MS);
          killed = worker.store.died;
        }
        if (killed) stats.killed!++;
        worker = newWorker();
        // Killed only when the batch still had store calls to make past that point.
        trace.push(`#${i} worker restarted${killed ? `, the old one killed ${restart.crashAfter} store calls into a batch` : ''}`);
      }
    }
    for (const slot of [...due.keys()].sort((a, b) => a - b)) await deliver(slot);
    await work(MAX_DRAIN_BATCHES);
    stats.dropped = dropped;
    for (const [label, n] of Object.entries(faults.injected)) stats[`fault ${label}`] = n;
    stats.deadLettered = queue.deadLetters.length;

    wc.setFaultPolicy(watch());
    const final = await reconcile();
    trace.push(`storm over (${queue.deadLetters.length} dead-lettered); reconcile: ${final.report.status} ${JSON.stringify(final.report.counts)}`);
    if (final.report.status !== 'success') problems.push(`the reconcile ended ${final.report.status}: ${final.report.message ?? ''}`);
    if (final.report.errors.length > 0) problems.push(`the reconcile reported errors: ${JSON.stringify(final.report.errors)}`);
    if ((final.report.counts.failed_push_enqueued ?? 0) !== dropped) {
      problems.push(`the failed-push sweep enqueued ${final.report.counts.failed_push_enqueued ?? 0} messages for ${dropped} ids never delivered`);
    }
    await work(MAX_DRAIN_BATCHES);
    if (queue.depth > 0) problems.push(`${queue.depth} messages still queued after ${MAX_DRAIN_BATCHES} batches`);
    if (queue.deadLetters.length > stats.deadLettered) problems.push(`${queue.deadLetters.length - stats.deadLettered} messages dead-lettered after the storm`);

    const deptIds = new Map<number, number>();
    const renumbered: string[] = [];
    for (const s of await service.store.list('dept')) {
      if (owns(s)) deptIds.set(Number(s.id), Number(s.wecomId));
      if (s.wecomId !== undefined && s.wecomId !== s.id) renumbered.push(`${s.id} → ${s.wecomId} (${s.status})`);
    }
    stats.renumbered = renumbered.length;
    if (renumbered.length > 0) trace.push(`departments WeCom numbered differently: ${renumbered.join(', ')}`);
    const found = divergences({
      dingtalk: { depts: dt.listDepts(), users: dt.listUsers() },
      formers: org.formerIds(),
      wecom: { depts: wc.listDepts(), users: wc.listUsers() },
      wecomOnly,
      deptIds,
    });
    for (const t of touches) problems.push(`touched what WeCom holds apart from the sync: ${t}`);
    const judged = judge(found, queue.deadLetters, opts.ignore ?? []);
    problems.push(...judged.lost);
    return { trace, divergences: judged.divergences, problems, stats };
  } finally {
    await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
    await service.close();
  }
}

/**
 * The differences that count (those in `ignore` set aside) and the messages lost: dead-lettered,
 * and their entity still differs from DingTalk by a difference that counts.
 */
export function judge(
  found: readonly Divergence[],
  deadLetters: readonly { body: string }[],
  ignore: readonly string[],
): { divergences: Divergence[]; lost: string[] } {
  const counted = found.filter((d) => !ignore.includes(d.what));
  const diverging = new Set(counted.map((d) => d.entity));
  const lost: string[] = [];
  for (const m of deadLetters) {
    const { kind, id } = JSON.parse(m.body) as { kind: string; id: string };
    if (diverging.has(`${kind} ${id}`)) lost.push(`lost: the dead-lettered message for ${kind} ${id} was never made good`);
  }
  return { divergences: counted, lost };
}

function owns(s: EntityState): s is EntityState & { wecomId: string } {
  return s.owned && s.wecomId !== undefined && s.status !== 'deleted';
}

function describe(e: OrgEvent): string {
  return `${e.eventType}[${[...(e.userIds ?? []), ...(e.deptIds ?? [])].join(',')}]`;
}
