import { defineConfig } from 'vitest/config';

// The fresh-clone check runs the whole suite again inside a clone: it runs alone, after the rest
// of `npm test`, so the two runs do not compete for this machine's two cores.
export default defineConfig({
  test: {
    include: ['test/repo/fresh-clone.test.ts'],
    testTimeout: 600_000,
  },
});
