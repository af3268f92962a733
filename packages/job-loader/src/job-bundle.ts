import { createRequire } from 'node:module';
import { mkdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';

/**
 * Bundles a job module (TypeScript or JavaScript) into one ESM file. `mobius` and the engine
 * packages stay external: every process imports its own installed copy, so the job's
 * `submit()` reaches that process's runner (planning mode on the coordinator and workers).
 */
export async function bundleJob(file: string): Promise<string> {
  const result = await build({
    entryPoints: [resolve(file)],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    external: ['mobius', '@mobius/*'],
    logLevel: 'silent',
    banner: { js: "import { createRequire as __mobiusCreateRequire } from 'node:module'; const require = __mobiusCreateRequire(import.meta.url);" },
  });
  return result.outputFiles[0].text;
}

const require = createRequire(import.meta.url);

/** The folder of this process's `mobius` package, which job bundles resolve `mobius` to. */
function mobiusRoot(): string {
  return dirname(require.resolve('mobius/package.json'));
}

/**
 * Writes a bundle where `mobius` resolves to this process's copy (a node_modules link beside
 * it), and returns its path.
 */
export function writeBundle(dir: string, bundle: string): string {
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  const link = join(dir, 'node_modules', 'mobius');
  if (!existsSync(link)) symlinkSync(mobiusRoot(), link, 'dir');
  const path = join(dir, 'job.mjs');
  writeFileSync(path, bundle);
  return path;
}
