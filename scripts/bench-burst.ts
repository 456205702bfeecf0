/**
 * `npm run bench:burst`: a burst of contact events pushed at once through `npm start`'s pipeline
 * (DingTalk simulator → signed pushes → callback → in-process queue → worker loop running
 * SYNC_MAX_CONCURRENCY batches at once → WeCom simulator), with the simulators enforcing the
 * platforms' limits (DingTalk 20 calls/s, WeCom 10,000 calls/min, per API) and every call paced
 * as `npm start` paces it. Default: 30 departments and 600 people, announced as 30
 * `org_dept_create` and 30 `user_add_org` pushes of 20 people, all sent at the same moment.
 *
 * Prints the wall time against the rate-limit floor, the share of DingTalk reads refused with
 * 90018, the messages dead-lettered, and whether everyone arrived. The floor: the API called most
 * needs (its successful calls) ÷ 20/s, since DingTalk limits each API separately; the sum of all
 * reads ÷ 20/s is printed beside it.
 *
 * `--lambdas` runs each concurrent batch as AWS does instead: in a worker of its own, with its own
 * buckets at one sync worker's share (lib/rate-budget.ts), rather than `npm start`'s one process
 * sharing the whole budget.
 *
 * BURST_DEPTS, BURST_USERS, BURST_USERS_PER_PUSH and the service's settings
 * (SYNC_MAX_CONCURRENCY, RECONCILE_RATE_SHARE, DINGTALK_CALLS_PER_SECOND, …) override the defaults.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { composeSyncCore } from '../lib/compose/core';
import { loadSyncConfig } from '../lib/config';
import { type BatchProcessor, startWorkerLoop } from '../lib/local/worker-loop';
import { budgetsFor } from '../lib/rate-budget';
import { generateOrg } from '../lib/sandbox/org-generator';
import { startSandboxPipeline } from '../lib/sandbox/pipeline';
import { reportingLinesIn } from '../lib/sandbox/reporting-lines';
import { SANDBOX_ENV } from '../lib/sandbox/seed';
import type { SyncBatchResult } from '../lib/sync/worker';

const DEPTS = Number(process.env.BURST_DEPTS ?? 30);
const USERS = Number(process.env.BURST_USERS ?? 600);
const PER_PUSH = Number(process.env.BURST_USERS_PER_PUSH ?? 20);
const DINGTALK_LIMIT = 20;
/** Settings the service takes from the environment, passed on as `npm start` would read them. */
const SETTINGS = ['SYNC_MAX_CONCURRENCY', 'RECONCILE_RATE_SHARE', 'DINGTALK_CALLS_PER_SECOND', 'WECOM_CALLS_PER_MINUTE'];
const LAMBDAS = process.argv.includes('--lambdas');

const env = Object.fromEntries(SETTINGS.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
const p = await startSandboxPipeline(env, { seed: false, rateLimits: true, timeoutMs: 10_000 });
const { dt, wc, queue, rates } = p;
const org = generateOrg({ users: USERS, depts: DEPTS, maxDepth: 3, seed: 11 });
dt.seed(org);
console.log(
  `burst: ${org.depts.length} departments, ${org.users.length} people, pushed at once as ${org.depts.length} org_dept_create and ${Math.ceil(org.users.length / PER_PUSH)} user_add_org pushes`,
);

/** One worker per concurrent batch, each with its own buckets at one sync worker's share, as each Lambda has. */
function lambdaWorkers(): BatchProcessor {
  const config = loadSyncConfig({ ...SANDBOX_ENV, ...env, DINGTALK_API_BASE: dt.url, WECOM_API_BASE: wc.url });
  const free = Array.from(
    { length: rates.syncMaxConcurrency },
    () => composeSyncCore(config, { store: p.store, budgets: budgetsFor(rates, 'sync-worker'), requeueTo: () => queue, timeoutMs: 10_000 }).processBatch,
  );
  return async (event) => {
    const worker = free.pop()!; // the loop runs no more batches at once than there are workers
    try {
      return await worker(event);
    } finally {
      free.push(worker);
    }
  };
}

const perWorker = budgetsFor(rates, 'sync-worker').dingtalk.perSecond;
console.log(
  `limits: DingTalk simulator ${DINGTALK_LIMIT}/s per API, WeCom simulator 10,000/min per API; ${rates.syncMaxConcurrency} batches at once, ${
    LAMBDAS
      ? `each in a worker of its own paced at ${perWorker.toFixed(2)} DingTalk calls/s per API (1 share of ${rates.syncMaxConcurrency} + ${rates.reconcileRateShare} for the reconcile, of ${rates.dingtalkCallsPerSecond}/s), as the sync Lambdas run`
      : `in one process paced at ${rates.dingtalkCallsPerSecond}/s and ${rates.wecomCallsPerMinute}/min per API, as npm start runs`
  }`,
);

const results: SyncBatchResult[] = [];
const process_ = LAMBDAS ? lambdaWorkers() : p.process;
const collect = async (event: Parameters<BatchProcessor>[0]) => {
  const r = await process_(event);
  results.push(r);
  return r;
};
const stop = startWorkerLoop(queue, collect, { concurrency: rates.syncMaxConcurrency });

const started = performance.now();
for (const d of org.depts) void dt.pushEvent('org_dept_create', { deptIds: [d.dept_id] });
for (let i = 0; i < org.users.length; i += PER_PUSH) void dt.pushEvent('user_add_org', { userIds: org.users.slice(i, i + PER_PUSH).map((u) => u.userid) });
await dt.idle();
const pushed = performance.now();
while (queue.depth > 0) await sleep(20);
const seconds = (performance.now() - started) / 1000;
stop();

const reads = Object.entries(dt.calls).filter(([api]) => api !== 'gettoken');
const totalReads = reads.reduce((n, [, c]) => n + c, 0);
const throttled = Object.values(dt.throttled).reduce((n, c) => n + c, 0);
const succeeded = reads.map(([api, c]) => [api, c - (dt.throttled[api] ?? 0)] as const);
const [busiestApi, busiest] = succeeded.reduce((a, b) => (b[1] > a[1] ? b : a), ['-', 0] as const);
const floor = busiest / DINGTALK_LIMIT;
const sumFloor = (totalReads - throttled) / DINGTALK_LIMIT;

const wcUsers = new Map(wc.listUsers().map((u) => [u.userid, u]));
const wcDepts = new Set(wc.listDepts().map((d) => d.id));
const missingUsers = org.users.filter((u) => wcUsers.get(u.userid)?.enable !== 1).length;
const missingDepts = org.depts.filter((d) => !wcDepts.has(d.dept_id)).length;
const failedPushes = dt.pushes.filter((o) => !o.delivered).length;
const outcomes = results.flatMap((r) => r.outcomes);
const count = (result: string) => outcomes.filter((o) => o.result === result).length;
const returned = results.reduce((n, r) => n + r.response.batchItemFailures.length, 0);
const wecomThrottled = Object.values(wc.throttled).reduce((n, c) => n + c, 0);

const pct = (a: number, b: number) => (b === 0 ? '0.0' : ((100 * a) / b).toFixed(1));
console.log(`\nall pushes answered in ${((pushed - started) / 1000).toFixed(1)} s; ${failedPushes} pushes failed (DingTalk's failed-push list)`);
console.log(
  `wall time ${seconds.toFixed(1)} s; floor ${floor.toFixed(1)} s (${busiest} ${busiestApi} ÷ ${DINGTALK_LIMIT}/s) → ${(seconds / floor).toFixed(2)}× the floor`,
);
console.log(`  (all DingTalk reads ÷ ${DINGTALK_LIMIT}/s: ${sumFloor.toFixed(1)} s → ${(seconds / sumFloor).toFixed(2)}×)`);
console.log(
  `DingTalk reads ${totalReads}: ${Object.entries(dt.calls)
    .filter(([api]) => api !== 'gettoken')
    .map(([api, c]) => `${api} ${c}`)
    .join(', ')}`,
);
console.log(`throttled reads (90018) ${throttled} = ${pct(throttled, totalReads)} % of DingTalk reads; WeCom 45009 ${wecomThrottled}`);
console.log(
  `messages: ${outcomes.length} handled (${count('created')} created, ${count('adopted')} adopted, ${count('unchanged')} unchanged, ${count('requeued')} requeued after a throttle, ${count('failed')} failed); ${returned} returned to the queue; dead-lettered ${queue.deadLetters.length}`,
);
console.log(`synced: ${org.users.length - missingUsers}/${org.users.length} people, ${org.depts.length - missingDepts}/${org.depts.length} departments`);
const lines = reportingLinesIn(wc, org.users);
console.log(`reporting lines: ${lines.set} of ${lines.managed} people with a manager report to them in WeCom, with no reconcile`);
await p.close();
process.exitCode = missingUsers + missingDepts + queue.deadLetters.length > 0 ? 1 : 0;
