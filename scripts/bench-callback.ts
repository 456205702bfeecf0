/**
 * `npm run bench`: figures for the callback, printed, never asserted.
 *  1. requests/s and p50/p99 latency of signed user events through the local HTTP server;
 *  2. the size of the minified Lambda bundle (same esbuild settings as serverless.yml);
 *  3. cold start: loading and initialising that bundle in a fresh `node`, next to bare `node -e 0`,
 *     as deployed (no source maps) and with `--enable-source-maps` and its map, as the workers run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { loadCallbackConfig } from '../lib/config';
import { signedRequest } from '../lib/dingtalk/push';
import { createCallbackHandler } from '../lib/dingtalk/receiver';
import { startDevServer } from '../lib/local/dev-server';
import { InProcessQueue } from '../lib/local/memory-queue';
import { createLogger } from '../lib/log';

const env = {
  DINGTALK_TOKEN: 'benchtoken',
  DINGTALK_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  DINGTALK_OWNER_KEY: 'dingbenchappkey',
  CALLBACK_MAX_SKEW_SECONDS: '0',
};

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5000);
const CONCURRENCY_LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

async function throughput(CONCURRENCY: number): Promise<void> {
  const config = loadCallbackConfig(env);
  const queue = new InProcessQueue();
  const handler = createCallbackHandler({ config, queue, logger: createLogger('bench', { level: 'error' }) });
  const { server, url } = await startDevServer([{ method: 'POST', path: '/dingtalk/callback', handler }], 0);
  const creds = { token: env.DINGTALK_TOKEN, aesKey: env.DINGTALK_AES_KEY, ownerKey: env.DINGTALK_OWNER_KEY };
  // Requests are prepared up front so the figures are the server's, not the client's encryption.
  const requests = Array.from({ length: REQUESTS }, (_, i) => {
    const event = { EventType: 'user_modify_org', CorpId: 'dingbench', UserId: [`user${i}`], TimeStamp: String(Date.now() + i) };
    const { query, body } = signedRequest(JSON.stringify(event), creds);
    return { url: `${url}/dingtalk/callback?${query}`, body };
  });
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        const t0 = performance.now();
        const res = await fetch(r.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: r.body });
        await res.text();
        latencies.push(performance.now() - t0);
        if (res.status !== 200) failures++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  server.close();
  latencies.sort((a, b) => a - b);
  console.log(`callback through the local HTTP server: ${REQUESTS} signed user events, ${CONCURRENCY} in flight (client in the same process)`);
  console.log(`  throughput   ${(REQUESTS / seconds).toFixed(0)} requests/s`);
  console.log(
    `  latency      p50 ${percentile(latencies, 50).toFixed(2)} ms   p99 ${percentile(latencies, 99).toFixed(2)} ms   max ${latencies[latencies.length - 1]!.toFixed(2)} ms`,
  );
  console.log(`  non-200      ${failures};  messages enqueued ${queue.depth}`);
}

async function bundleAndColdStart(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'callback-bench-'));
  try {
    const outfile = join(dir, 'callback.js');
    await build({
      entryPoints: [resolve('handlers/callback.ts')],
      bundle: true,
      minify: true,
      // Linked, as serverless.yml builds it: the map beside the bundle, named in its last line.
      sourcemap: 'linked',
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      mainFields: ['module', 'main'],
      outfile,
      logLevel: 'error',
    });
    const size = statSync(outfile).size;
    console.log(`minified callback bundle: ${(size / 1024).toFixed(0)} KB (${size} bytes; esbuild, node22, module-first)`);

    // Load the bundle and answer one signed check_url request: module load, config, queue client
    // construction and one decrypt/encrypt, as a cold first invocation does (check_url sends nothing to SQS).
    const creds = { token: env.DINGTALK_TOKEN, aesKey: env.DINGTALK_AES_KEY, ownerKey: env.DINGTALK_OWNER_KEY };
    const { query, body } = signedRequest(JSON.stringify({ EventType: 'check_url' }), creds);
    const event = {
      version: '2.0',
      routeKey: 'POST /dingtalk/callback',
      rawPath: '/dingtalk/callback',
      rawQueryString: query.toString(),
      headers: { 'content-type': 'application/json' },
      queryStringParameters: Object.fromEntries(query),
      requestContext: { http: { method: 'POST', path: '/dingtalk/callback', sourceIp: '127.0.0.1' } },
      body,
      isBase64Encoded: false,
    };
    const probe = join(dir, 'probe.cjs');
    writeFileSync(
      probe,
      `require(${JSON.stringify(outfile)}).handler(${JSON.stringify(event)}).then((r) => { if (r.statusCode !== 200) { console.error(r); process.exit(3); } console.log(process.memoryUsage().rss); });`,
    );
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...env,
      QUEUE_URL: 'https://sqs.ap-southeast-1.amazonaws.com/000000000000/bench.fifo',
      AWS_REGION: 'ap-southeast-1',
    };
    delete childEnv.NODE_OPTIONS;
    /** Wall time of a fresh process, and the resident memory the probe reported (bytes). */
    const run = (args: string[], nodeOptions?: string): { ms: number; rss: number } => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, args, { env: nodeOptions ? { ...childEnv, NODE_OPTIONS: nodeOptions } : childEnv, stdio: 'pipe' });
      if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
      // The probe's last line; the handler may log before it.
      return { ms: performance.now() - t0, rss: Number(r.stdout.toString().trim().split('\n').at(-1)) };
    };
    run(['-e', '0']); // warm the file cache
    run([probe]);
    const bare: number[] = [];
    const plain: { ms: number; rss: number }[] = [];
    const mapped: { ms: number; rss: number }[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      bare.push(run(['-e', '0']).ms);
      plain.push(run([probe]));
      mapped.push(run([probe], '--enable-source-maps'));
    }
    const b = median(bare);
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    const line = (label: string, runs: { ms: number; rss: number }[]) => {
      const ms = median(runs.map((r) => r.ms));
      return `  ${label}: ${ms.toFixed(0)} ms (+${(ms - b).toFixed(0)} ms over bare node), rss ${mb(median(runs.map((r) => r.rss)))} MB`;
    };
    console.log(`cold start (median of ${COLD_RUNS} fresh processes; bare node -e 0 ${b.toFixed(0)} ms): load + init bundled handler, answer one check_url`);
    console.log(line('as deployed, no source maps          ', plain));
    console.log(line('with --enable-source-maps and its map', mapped));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const c of CONCURRENCY_LEVELS) await throughput(c);
await bundleAndColdStart();
