import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The suite's embedded jobs serialize local channels (see src/suite-setup.ts).
    setupFiles: ['src/suite-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Integration tests spawn processes and measure memory: one file at a time on a 2-core machine.
    fileParallelism: false,
  },
});
