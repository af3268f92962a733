import type { StateSnapshot } from '@mobius/interface';

/** Options of the LevelDB state backend. */
export interface LevelStateBackendOptions {
  /** Root folder: each task keeps its LevelDB in `<directory>/<jobId>/<operatorId>-<taskIndex>`. */
  readonly directory: string;
  /**
   * Most state entries a task holds in memory: cached values (clean or dirty) plus evicted
   * entries whose write to LevelDB has not completed. Default 10,000.
   */
  readonly cacheEntries?: number;
  /** Track changed keys so snapshots after the first are incremental. Default true. */
  readonly incremental?: boolean;
  /** After this many incremental snapshots in a row, the next one is full (bounds the restore chain). Default 10. */
  readonly maxIncrementalChain?: number;
  /** How many entries an eviction moves out of the cache at once. Default min(1,000, max(1, cacheEntries / 10)). */
  readonly evictionChunk?: number;
  /** Longest time a put() may block waiting for a write to LevelDB when the cache is full of unwritten entries, ms. Default 30,000. */
  readonly syncFlushTimeoutMs?: number;
}

/**
 * A `StateSnapshot` of the level backend. The extra fields are optional in spirit (a reader
 * of the plain contract ignores them): an incremental snapshot holds only the entries
 * changed since `baseCheckpointId` (tombstones for deletes), and restoring it needs its
 * base chain, oldest first.
 */
export interface LevelStateSnapshot extends StateSnapshot {
  readonly incremental: boolean;
}

/** Memory use of one task, in entries (see `LevelStateBackendOptions.cacheEntries`). */
export interface LevelStateStats {
  /** The bound: `cached + flushing` never exceeds it once the database is open. */
  readonly capacity: number;
  /** Entries in the LRU cache (clean, dirty or known-absent). */
  readonly cached: number;
  /** Cached entries not yet written to LevelDB. */
  readonly dirty: number;
  /** Evicted entries held (as bytes) until their batch is written. */
  readonly flushing: number;
  /** Highest `cached + flushing` seen since creation. */
  readonly peak: number;
  /** Batches written to LevelDB. */
  readonly batches: number;
  /** Times a put()/get() blocked for a write to complete because memory was full. */
  readonly blockingWaits: number;
}
