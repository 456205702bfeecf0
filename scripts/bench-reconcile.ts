/**
 * `npm run bench:reconcile`: the full reconcile on a generated organisation (default 10,000 users
 * in 1,000 departments, 8 levels counting the root) against the simulators on loopback, with
 * DingTalk's 20 calls/s per API and WeCom's 10,000 calls/min per API respected as in production.
 * Prints time per phase, calls per API and peak memory for the first import and a second run;
 * the DingTalk reads of each run split into the listing (departments and their members) and the
 * full reads (`user/get`: the detail sweep's slice, and everyone a run creates); and how many
 * reporting lines the first import set.
 *
 * BENCH_USERS, BENCH_DEPTS, BENCH_DEPTH, DINGTALK_CALLS_PER_SECOND and WECOM_CALLS_PER_MINUTE
 * override the defaults (the calls are paced by the clients, lib/rate-budget.ts, taking the whole
 * budget as `npm run reconcile` does); `DINGTALK_CALLS_PER_SECOND=Infinity` turns the pacing off
 * and lifts the simulators' limits, to see the code's own cost.
 */
import { composeLocalService } from '../lib/compose/local';
import { generateOrg } from '../lib/sandbox/org-generator';
import { reportingLinesIn } from '../lib/sandbox/reporting-lines';
import { runReconcile } from '../lib/sync/reconcile';

const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const DEPTS = Number(process.env.BENCH_DEPTS ?? 1_000);
const DEPTH = Number(process.env.BENCH_DEPTH ?? 8);
const DT_RATE = Number(process.env.DINGTALK_CALLS_PER_SECOND ?? 18);
const WC_RATE = Number(process.env.WECOM_CALLS_PER_MINUTE ?? 9000);
const PACED = Number.isFinite(DT_RATE);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

const org = generateOrg({ users: USERS, depts: DEPTS, maxDepth: DEPTH, seed: 7 });
// The simulators enforce the platforms' own limits (DingTalk 20/s, WeCom 10,000/min per API), so a
// run that exceeded them would show errors; with the client-side limits lifted, so are theirs.
const service = await composeLocalService(
  {},
  {
    sandbox: true,
    simulators: {
      dingtalk: { rateLimitPerSecond: PACED ? 20 : null },
      wecom: { rateLimitPerMinute: PACED ? 10_000 : null },
      seed: false,
    },
    overrides: PACED ? { DINGTALK_CALLS_PER_SECOND: String(DT_RATE), WECOM_CALLS_PER_MINUTE: String(WC_RATE) } : {},
    pacing: PACED,
    timeoutMs: 30_000,
  },
);
const { dingtalk: dt, wecom: wc } = service.sims!;
dt.seed(org);
const deps = service.reconcileDeps(service.queue);

const depthCount = new Map<number, number>();
const parent = new Map(org.depts.map((d) => [d.dept_id, d.parent_id!]));
for (const d of org.depts) {
  let depth = 2;
  for (let p = d.parent_id!; p !== 1; p = parent.get(p)!) depth++;
  depthCount.set(depth, (depthCount.get(depth) ?? 0) + 1);
}
console.log(
  `organisation: ${org.users.length} users, ${org.depts.length} departments (+ root), levels ${[...depthCount.keys()].sort().join(',')} (root = 1), ${org.users.filter((u) => u.dept_id_list.length > 1).length} users in 2+ departments`,
);
console.log(
  PACED
    ? `pacing: DingTalk ${DT_RATE} calls/s, WeCom ${WC_RATE} calls/min, per API; simulators enforce 20/s and 10,000/min per API`
    : 'no pacing, no limits in the simulators',
);

const calls = (c: Record<string, number>) =>
  Object.entries(c)
    .filter(([, n]) => n > 0)
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
const writes = (c: Record<string, number>) =>
  Object.entries(c)
    .filter(([k]) => /\/(create|update|delete|batchdelete)$/.test(k))
    .reduce((n, [, v]) => n + v, 0);
/** DingTalk reads of one run: the listing (departments and their members) and the full reads of people. */
const dingtalkReads = (c: Record<string, number>) => {
  const full = c['topapi/v2/user/get'] ?? 0;
  const listing = ['topapi/v2/department/get', 'topapi/v2/department/listsub', 'topapi/v2/user/list'].reduce((n, api) => n + (c[api] ?? 0), 0);
  return { listing, full, total: listing + full };
};
/** People with a manager in the organisation, and how many of them WeCom shows reporting to that manager. */
for (const label of ['first import', 'second run (no changes)']) {
  dt.resetCalls();
  wc.resetCalls();
  peakRss = process.memoryUsage().rss;
  const t0 = performance.now();
  const { report, timings } = await runReconcile(deps);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`\n${label}: ${report.status} in ${seconds.toFixed(1)} s; ${JSON.stringify(report.counts)}; errors ${report.errors.length}`);
  if (report.errors.length) console.log(`  first errors: ${JSON.stringify(report.errors.slice(0, 3))}`);
  console.log(
    `  phases: ${Object.entries(timings)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
      .join(', ')}`,
  );
  console.log(`  DingTalk calls: ${calls(dt.calls)}`);
  const reads = dingtalkReads(dt.calls);
  console.log(
    `  DingTalk reads: ${reads.total} = listing ${reads.listing} + user/get ${reads.full} (detail sweep slice ${report.counts.detail_swept ?? 0}; full reads made ${report.counts.detail_read ?? 0}, the rest fresh reads before writes)`,
  );
  if (label === 'first import') {
    const lines = reportingLinesIn(wc, org.users);
    console.log(`  reporting lines: ${lines.set} of ${lines.managed} people with a manager report to them in WeCom after ${seconds.toFixed(1)} s`);
  }
  console.log(`  WeCom calls: ${calls(wc.calls)}  → writes ${writes(wc.calls)}`);
  console.log(
    `  peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MiB (this process holds both simulators too); heap now ${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(0)} MiB`,
  );
}
console.log(`\nWeCom now: ${wc.listUsers().length} users, ${wc.listDepts().length} departments`);
clearInterval(sampler);
await service.close();
