/**
 * `npm run soak`: the convergence property (lib/sandbox/convergence) at larger sizes than
 * `npm test` runs it. Each scenario applies random organisation changes in DingTalk, delivers
 * their events duplicated, late or never (failed-push list), while WeCom fails a share of calls
 * and the worker is restarted; after one reconcile WeCom must equal DingTalk.
 *
 *   npm run soak -- [--seed N] [--runs N] [--changes N] [--fault-rate R] [--path P] [--time-limit S] [--ignore WHAT]…
 *
 * `--ignore direct_leader` (any field the oracle compares) sets a known difference aside while
 * hunting for others; `--time-limit` stops shrinking and reports the smallest failure so far.
 * Defaults: a random seed, 20 scenarios of up to 400 changes, 20 % faults. A failure is shrunk
 * and printed with its seed and path; `--seed S --path P` (with the same `--changes`) replays it.
 * Prints one line per scenario and exits 1 when the property fails, 2 on arguments it cannot use.
 */
import { parseArgs } from 'node:util';
import { checkConvergence } from '../lib/sandbox/convergence/property';
import { cli } from './cli';

const USAGE = 'usage: npm run soak -- [--seed N] [--runs N] [--changes N] [--fault-rate R] [--path P] [--time-limit S] [--ignore WHAT]…';
/** Bad arguments exit 2, apart from a property that fails (1). */
const { fail, parseOrFail } = cli('soak', USAGE, 2);

const { values } = parseOrFail(() =>
  parseArgs({
    options: {
      seed: { type: 'string' },
      runs: { type: 'string', default: '20' },
      changes: { type: 'string', default: '400' },
      'fault-rate': { type: 'string', default: '0.2' },
      path: { type: 'string' },
      'time-limit': { type: 'string' },
      ignore: { type: 'string', multiple: true },
    },
  }),
);

function number(name: string, raw: string | undefined, check: (n: number) => boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!check(n)) fail(`--${name} ${raw}: not valid\n${USAGE}`);
  return n;
}

// fast-check takes a seed as a 32-bit integer: any other would run (and report) a different one.
const isSeed = (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31;
const seed = number('seed', values.seed, isSeed) ?? Math.floor(Math.random() * 2 ** 31);
const runs = number('runs', values.runs, (n) => Number.isInteger(n) && n > 0)!;
const changes = number('changes', values.changes, (n) => Number.isInteger(n) && n > 0)!;
const faultRate = number('fault-rate', values['fault-rate'], (n) => n >= 0 && n <= 1)!;
const timeLimitS = number('time-limit', values['time-limit'], (n) => n > 0);
// fast-check's path: the run, then the shrink taken at each step (`2:0:13`).
if (values.path !== undefined && !/^\d+(:\d+)*$/.test(values.path)) fail(`--path ${values.path}: not a fast-check path (like 2:0:13)\n${USAGE}`);

console.log(`soak: seed ${seed}, ${values.path ? `path ${values.path}` : `${runs} scenarios`} of up to ${changes} changes, ${faultRate * 100} % WeCom faults`);
let n = 0;
const started = performance.now();
const outcome = await checkConvergence({
  seed,
  runs,
  changes,
  faultRate,
  path: values.path,
  timeLimitMs: timeLimitS === undefined ? undefined : timeLimitS * 1000,
  ignore: values.ignore,
  onRun: (result) => {
    const s = result.stats;
    const faults = Object.entries(s)
      .filter(([k]) => k.startsWith('fault '))
      .reduce((a, [, v]) => a + v, 0);
    const verdict =
      result.divergences.length + result.problems.length === 0 ? 'ok' : `FAILED (${result.divergences.length} differences, ${result.problems.length} problems)`;
    console.log(
      `  run ${++n}: ${s.changes} changes (${s.skipped} skipped), ${s.events} events, ${s.pushes} pushes (${s.late} late), ${s.dropped} ids dropped, ${faults} WeCom faults, ` +
        `${s.restarts} restarts (${s.killed} killed mid-batch), ${s.batches} batches, ${s.deadLettered} dead-lettered → ${verdict}  [${((performance.now() - started) / 1000).toFixed(0)} s]`,
    );
  },
});
console.log(outcome.report);
process.exit(outcome.ok ? 0 : 1);
