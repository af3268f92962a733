import type { CheckpointMetadata } from './checkpoint.js';
import type { Logger } from './logger.js';

/** A checkpoint as a store found it: valid metadata, corrupt metadata, or none (never completed). */
export interface ScannedCheckpoint {
  readonly checkpointId: number;
  /** The verified metadata, if the checkpoint has a valid one. */
  readonly metadata?: CheckpointMetadata;
  /** Why the metadata is not valid; undefined when it is valid or simply missing. */
  readonly corrupt?: string;
}

/**
 * The newest checkpoint whose metadata and every task state verify, for any checkpoint store:
 * `scanned` oldest first, `verify` returns why a checkpoint's task states are bad (or
 * undefined). Each newer corrupt checkpoint is logged (warn) with the reason and the one
 * restored instead; undefined when no checkpoint is valid.
 */
export async function latestValidCheckpoint(
  jobId: string,
  scanned: readonly ScannedCheckpoint[],
  verify: (metadata: CheckpointMetadata) => Promise<string | undefined>,
  logger: Logger,
): Promise<CheckpointMetadata | undefined> {
  const corrupt: { checkpointId: number; reason: string }[] = [];
  let found: CheckpointMetadata | undefined;
  for (let i = scanned.length - 1; i >= 0 && found === undefined; i--) {
    const c = scanned[i]!;
    if (c.metadata === undefined) {
      if (c.corrupt !== undefined) corrupt.push({ checkpointId: c.checkpointId, reason: `metadata: ${c.corrupt}` });
      continue; // no metadata: never completed (in progress or aborted), not a candidate
    }
    const reason = await verify(c.metadata);
    if (reason === undefined) found = c.metadata;
    else corrupt.push({ checkpointId: c.checkpointId, reason });
  }
  for (const { checkpointId, reason } of corrupt) {
    const then = found === undefined ? 'no valid checkpoint to restore' : `restoring checkpoint ${found.checkpointId}`;
    logger.warn({ jobId, checkpointId, reason, restoring: found?.checkpointId }, `checkpoint ${checkpointId} of job ${jobId} is corrupt (${reason}); ${then}`);
  }
  return found;
}

/**
 * The completed checkpoints among `scanned` (oldest first), for a store's `list`: those without
 * metadata never completed; those with corrupt metadata are logged (warn) and left out.
 */
export function completedCheckpoints(jobId: string, scanned: readonly ScannedCheckpoint[], logger: Logger): CheckpointMetadata[] {
  const found: CheckpointMetadata[] = [];
  for (const c of scanned) {
    if (c.metadata !== undefined) found.push(c.metadata);
    else if (c.corrupt !== undefined) {
      logger.warn({ jobId, checkpointId: c.checkpointId, reason: c.corrupt }, `ignoring checkpoint ${c.checkpointId} of job ${jobId}: corrupt metadata (${c.corrupt})`);
    }
  }
  return found;
}
