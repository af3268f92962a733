import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configOption, getConfig, type StateBackendFactory } from '@mobius/interface';
import { compactLevelSnapshots } from './compact-snapshots.js';
import { LevelStateBackend } from './level-state-backend.js';

/** The LevelDB backend's own config keys, registered by the app that loads its factory. */
export const LevelOptions = {
  CACHE_ENTRIES: configOption<number>({
    key: 'state.level.cache-entries',
    type: 'integer',
    default: 10_000,
    min: 1,
    scope: 'job',
    doc: 'Entries the LevelDB backend keeps in memory per task; the rest is on disk.',
  }),
} as const;

/**
 * Where the factory's backends keep task databases: `<tmp>/mobius-state/<pid>/<jobId>/...`, one
 * folder per process. Workers on one machine share the temp dir: with a shared folder a worker
 * ending its part of a job deleted the databases another worker's new attempts had just opened
 * there (a global restore moves tasks between workers), and two attempts of one task opened the
 * same database.
 */
export function levelStateRoot(pid: number = process.pid): string {
  return join(tmpdir(), 'mobius-state', String(pid));
}

/** Incremental snapshots: at most this many deltas follow a full one. */
const MAX_INCREMENTAL_CHAIN = 10;

/**
 * `state.backend: 'level'`. Snapshots are incremental (only what changed since the previous
 * one, a full one every MAX_INCREMENTAL_CHAIN + 1 and for savepoints), so a job keeps at least
 * a chain's worth of checkpoints and compacts chains in the background.
 */
export const levelStateBackendFactory: StateBackendFactory = {
  kind: 'level',
  options: Object.values(LevelOptions),
  create: (config) =>
    new LevelStateBackend({
      directory: levelStateRoot(),
      cacheEntries: getConfig(config, LevelOptions.CACHE_ENTRIES),
      incremental: true,
      maxIncrementalChain: MAX_INCREMENTAL_CHAIN,
    }),
  minRetainedCheckpoints: () => MAX_INCREMENTAL_CHAIN + 1,
  compact: (chain) => compactLevelSnapshots(chain),
  dispose: (jobId) => rmSync(join(levelStateRoot(), jobId), { recursive: true, force: true }),
};
