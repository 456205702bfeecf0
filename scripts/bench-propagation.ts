/**
 * `npm run bench:propagation`: how long a change takes from DingTalk to WeCom through what
 * `npm start` runs (lib/local/server.ts: the callback behind the HTTP server, the in-process
 * queue, the background worker, the embedded store and history), against the simulators on
 * loopback with DingTalk's 20 calls/s and WeCom's 10,000 calls/min per API enforced.
 *
 * A generated organisation is imported first (a reconcile). Then people are changed in the
 * DingTalk simulator, which pushes `user_modify_org` to the callback as DingTalk does; the
 * figure is the worker's own PropagationLatency metric (DingTalk's event time → the WeCom write
 * saved), the one the `propagation` alarm watches. Two phases: a steady rate, then a burst.
 *
 * BENCH_USERS (200), BENCH_DEPTS (20), BENCH_CHANGES (300), BENCH_RATE (10 changes/s) and
 * BENCH_BURST (200) override the defaults.
 */
import { startLocalServer } from '../lib/local/server';
import { createLogger } from '../lib/log';
import { createMemoryMetrics } from '../lib/metrics/metrics';
import { generateOrg } from '../lib/sandbox/org-generator';
import { runReconcile } from '../lib/sync/reconcile';

const USERS = Number(process.env.BENCH_USERS ?? 200);
const DEPTS = Number(process.env.BENCH_DEPTS ?? 20);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 300);
const RATE = Number(process.env.BENCH_RATE ?? 10);
const BURST = Number(process.env.BENCH_BURST ?? 200);
/** A phase that has not settled by then is reported as such, not waited for. */
const PHASE_TIMEOUT_MS = 300_000;

const metrics = createMemoryMetrics();
const local = await startLocalServer(
  { PORT: '0' },
  {
    sandbox: true,
    simulators: { dingtalk: { rateLimitPerSecond: 20 }, wecom: { rateLimitPerMinute: 10_000 }, seed: false },
    metrics,
    // Errors only: the figures are the output (throttled answers are counted below).
    logger: createLogger('bench', { level: 'error' }),
  },
);
const { dingtalk: dt, wecom: wc } = local.service.sims!;
const org = generateOrg({ users: USERS, depts: DEPTS, seed: 11 });
dt.seed(org);

const t0 = performance.now();
const { report } = await runReconcile(local.service.reconcileDeps(local.service.queue));
console.log(
  `imported ${org.users.length} users in ${org.depts.length} departments by reconcile: ${report.status} in ${((performance.now() - t0) / 1000).toFixed(1)} s; WeCom holds ${wc.listUsers().length} users`,
);
console.log(`through npm start's service at ${local.url}: DingTalk simulator push → HTTP callback → in-process queue → worker → WeCom simulator\n`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function phase(label: string, count: number, gapMs: number): Promise<void> {
  const before = metrics.values('PropagationLatency').length;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const user = org.users[i % org.users.length]!;
    dt.updateUser(user.userid, { title: `${label} ${i}` });
    if (gapMs > 0) await sleep(gapMs);
  }
  const deadline = performance.now() + PHASE_TIMEOUT_MS;
  while (metrics.values('PropagationLatency').length - before < count && performance.now() < deadline) await sleep(20);
  const wall = (performance.now() - started) / 1000;
  const got = metrics.values('PropagationLatency').slice(before);
  const sorted = [...got].sort((a, b) => a - b);
  const missing = count - got.length;
  console.log(
    `${label}: ${count} changes${gapMs > 0 ? ` at ${RATE}/s` : ' at once'}, ${got.length} written in ${wall.toFixed(1)} s${missing > 0 ? ` (${missing} not written within the time limit)` : ''}`,
  );
  if (sorted.length) {
    console.log(
      `  propagation (DingTalk event time → WeCom write): p50 ${percentile(sorted, 50)} ms, p90 ${percentile(sorted, 90)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted.at(-1)} ms`,
    );
  }
}

await phase('steady', CHANGES, 1000 / RATE);
await sleep(500);
await phase('burst', BURST, 0);

const status = await local.service.operations().status();
console.log(`\nafterwards: queue ${JSON.stringify(status.queue)}, open failures ${status.failures.open}, throttled answers ${metrics.sum('Throttles')}`);
await local.close();
