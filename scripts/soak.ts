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
 * Prints one line per scenario and exits 1 when the property fails.
 */
import { parseArgs } from 'node:util';
import { checkConvergence } from '../lib/sandbox/convergence/property';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    runs: { type: 'string', default: '20' },
    changes: { type: 'string', default: '400' },
    'fault-rate': { type: 'string', default: '0.2' },
    path: { type: 'string' },
    'time-limit': { type: 'string' },
    ignore: { type: 'string', multiple: true },
  },
});

function number(name: string, raw: string | undefined, check: (n: number) => boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!check(n)) {
    console.error(`--${name} ${raw}: not valid`);
    process.exit(2);
  }
  return n;
}

const seed = number('seed', values.seed, Number.isSafeInteger) ?? Math.floor(Math.random() * 2 ** 31);
const runs = number('runs', values.runs, (n) => Number.isInteger(n) && n > 0)!;
const changes = number('changes', values.changes, (n) => Number.isInteger(n) && n > 0)!;
const faultRate = number('fault-rate', values['fault-rate'], (n) => n >= 0 && n <= 1)!;
const timeLimitS = number('time-limit', values['time-limit'], (n) => n > 0);

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
