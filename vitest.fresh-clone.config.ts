import { defineConfig } from 'vitest/config';

// The fresh-clone check runs the whole suite again inside a clone: it runs alone, after the rest
// of `npm test`, so the two runs do not compete for this machine's two cores.
export default defineConfig({
  test: {
    // The JSON report is what .ci/run counts: console output can hold other runs' summaries.
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/fresh-clone.json' },
    include: ['test/repo/fresh-clone.test.ts'],
    testTimeout: 600_000,
    // Removing the clone (its node_modules) can take a while on a busy machine.
    hookTimeout: 300_000,
  },
});
