import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'web/src/**/*.test.ts', 'test/**/*.test.ts'],
    // Hang catchers only: on a loaded 2-core machine (several suites at once) a test that spawns
    // servers can take several times its idle duration; a passing test never waits for these.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // expect.poll waits for a condition; its default 1 s deadline is shorter than a loaded browser's redraw.
    expect: { poll: { timeout: 30_000 } },
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
