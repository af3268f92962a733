import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Integration tests spawn processes and measure memory: one file at a time on a 2-core machine.
    fileParallelism: false,
  },
});
