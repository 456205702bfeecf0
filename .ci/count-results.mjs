// Adds up the Vitest JSON reports that `npm test` wrote (.test-results/*.json) and prints
// "N passed, N failed". Reading the reports, not the console, keeps a summary line that some
// test prints (the fresh-clone check quotes a whole inner run) from being counted.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.test-results';
let passed = 0;
let failed = 0;
let files = [];
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.json'));
} catch {
  // No reports: the run stopped before Vitest (a type error, the linter).
}
for (const f of files) {
  const report = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
}
const exitStatus = Number(process.argv[3] ?? 0);
if (exitStatus !== 0 && failed === 0) failed = 1; // a type error, a lint error or a crash counts as a failure
process.stdout.write(`${passed} passed, ${failed} failed\n`);
