import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/heartbeat-thread.ts', 'src/task-thread.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // import.meta.url in the CJS build (the worker's job loader needs a require of its own).
  shims: true,
});
