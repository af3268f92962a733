import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The built file of a thread entry (`heartbeat-thread.js`, `task-thread.js`) next to this module;
 * from the sources (this package's tests), the one in `dist/` (a worker thread cannot load
 * TypeScript through a loader given in its execArgv). `what` names it in the error.
 */
export function threadEntry(file: string, what: string): URL {
  const beside = new URL(`./${file}`, import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL(`../dist/${file}`, import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`${what}'s file is missing (${fileURLToPath(beside)}): build mobius-cluster first`);
}
