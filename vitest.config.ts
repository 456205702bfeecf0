import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The JSON report is what .ci/run counts: console output can hold other runs' summaries.
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/suite.json' },
    include: ['test/**/*.test.ts'],
    // Runs alone after the rest (vitest.fresh-clone.config.ts): it runs this whole suite again in a clone.
    exclude: ['test/repo/fresh-clone.test.ts', '**/node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Integration tests start real local servers on loopback; two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
