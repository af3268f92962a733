import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger, RestoreHandles } from '@mobius/interface';
import { FsCheckpointStore } from '@mobius/failover';
import { ClusterError } from './coordinator.js';

/** Reads a savepoint folder (`<dir>/<job>/chk-<id>`) into restore handles. */
export async function readSavepointFolder(path: string, logger: Logger): Promise<RestoreHandles> {
  const folder = resolve(path);
  const match = /^chk-(\d+)$/.exec(basename(folder));
  if (match === null || !existsSync(join(folder, '_metadata.json'))) {
    throw new ClusterError('INVALID_SAVEPOINT', `${path} is not a savepoint folder (expected <checkpoint dir>/<job>/chk-<id> with a _metadata.json)`, 400);
  }
  const dir = dirname(dirname(folder));
  const store = new FsCheckpointStore({ directory: dir, logger });
  const all = await store.list(basename(dirname(folder)));
  const metadata = all.find((m) => m.checkpointId === Number(match[1]));
  if (metadata === undefined) throw new ClusterError('INVALID_SAVEPOINT', `${path}: its metadata is missing or corrupt`, 400);
  // A savepoint is self-contained (full snapshots): its own task files are all it needs.
  return { dir, handles: Object.values(metadata.tasks), checkpointId: metadata.checkpointId };
}
