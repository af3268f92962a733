import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/plan-child.ts'],
  // plan-child is the entry of the planning child process (JobPlanner starts it by path).
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // import.meta.url in the CJS build (writeBundle resolves `mobius` with a require of its own).
  shims: true,
});
