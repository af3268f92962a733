import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The built file of a thread entry (`heartbeat-thread.js`, `task-thread.js`) next to the module
 * at `base` (its `import.meta.url`); from the sources (a package's tests), the one in `dist/`
 * beside them (a worker thread cannot load TypeScript through a loader given in its execArgv).
 * `what` names the entry, and `pkg` the package to build, in the error.
 */
export function threadEntry(base: string, file: string, what: string, pkg: string): URL {
  const beside = new URL(`./${file}`, base);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL(`../dist/${file}`, base);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`${what}'s file is missing (${fileURLToPath(beside)}): build ${pkg} first`);
}
