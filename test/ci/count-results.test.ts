/**
 * What CI reports as "N passed, N failed" comes from the test reports `npm test` writes, so no
 * summary line that a test prints (the fresh-clone check quotes a whole inner run when it fails)
 * can be counted as this run's.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'count-results-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function count(reports: Record<string, object>, exitStatus = 0): string {
  const dir = join(scratch, String(Math.random()).slice(2));
  mkdirSync(dir);
  for (const [name, report] of Object.entries(reports)) writeFileSync(join(dir, name), JSON.stringify(report));
  return execFileSync(process.execPath, [join(root, '.ci', 'count-results.mjs'), dir, String(exitStatus)], { encoding: 'utf8' }).trim();
}

describe('.ci/count-results.mjs', () => {
  it('adds up the suite and the fresh-clone check', () => {
    expect(count({ 'suite.json': { numPassedTests: 412, numFailedTests: 0 }, 'fresh-clone.json': { numPassedTests: 0, numFailedTests: 1 } }, 1)).toBe(
      '412 passed, 1 failed',
    );
  });

  it('counts a file that failed to load as a failure', () => {
    expect(count({ 'suite.json': { numPassedTests: 10, numFailedTests: 0, numRuntimeErrorTestSuites: 1 } }, 1)).toBe('10 passed, 1 failed');
  });

  it('counts a run that stopped before any report (a type or lint error) as one failure', () => {
    expect(count({}, 2)).toBe('0 passed, 1 failed');
    expect(count({}, 0)).toBe('0 passed, 0 failed');
  });

  it('is what .ci/run prints last', () => {
    const script = execFileSync('cat', [join(root, '.ci', 'run')], { encoding: 'utf8' });
    expect(script).toMatch(/node \.ci\/count-results\.mjs \.test-results "\$status"\nexit "\$status"\n$/);
  });
});
