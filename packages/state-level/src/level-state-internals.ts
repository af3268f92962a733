// The shapes the cache, the write queue and the snapshots of a LevelDB task state share, and their constants.
import type { Serializer, StateKey } from '@mobius/interface';
import type { Level } from 'level';
import { Packr } from 'msgpackr';
import type { LevelKeyedStore } from './level-keyed-store.js';

export const DEFAULT_CACHE_ENTRIES = 10_000;
export const EMPTY = Buffer.alloc(0);
export const RESTORE_BATCH = 4096;
export const SLEEP = new Int32Array(new SharedArrayBuffer(4));

export const defaultPackr = new Packr({ useRecords: false, moreTypes: true });
/** msgpackr: plain objects, arrays, strings, numbers, booleans, null, undefined, Date, Set. A `Map` comes back as an object. */
export const msgpackSerializer: Serializer<unknown> = {
  serialize: (value) => defaultPackr.pack(value),
  deserialize: (bytes) => defaultPackr.unpack(bytes),
};

export interface Entry {
  readonly store: LevelKeyedStore<unknown>;
  readonly key: StateKey;
  value: unknown;
  /** false: the key is known to be absent (a miss, or a delete). */
  exists: boolean;
  /** Changed since it was read or written: must be written to LevelDB before it leaves memory. */
  dirty: boolean;
  /** Towards the least recently used end. */
  older: Entry | null;
  newer: Entry | null;
}

/** An evicted entry whose batch is not yet written: `bytes` undefined means deleted. */
export interface Flushing {
  readonly bytes: Uint8Array | undefined;
  readonly batch: number;
}

export type Op = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/**
 * A batch of the write queue. Operations go straight into a LevelDB chained batch, which
 * copies them into native memory at once: the JavaScript heap keeps only `entries` (to find
 * the bytes in the stores' `flushing` maps), not the keys and values of the operations.
 */
export interface Batch {
  readonly id: number;
  chained: ChainedBatch | null;
  entries: Array<{ store: LevelKeyedStore<unknown>; key: StateKey }>;
  done: boolean;
}

export type ChainedBatch = ReturnType<Level<Buffer, Buffer>['batch']>;

export interface SnapshotRecord {
  readonly checkpointId: number;
  readonly epoch: number;
  /** Number of incremental snapshots since the last full one (0 for a full one). */
  readonly depth: number;
  /** Checkpoints this snapshot's restore chain consists of (itself included). */
  readonly chain: readonly number[];
  /** The snapshot it is a delta on. Kept one level deep, so an abort can step back once. */
  base: SnapshotRecord | undefined;
}

export interface Hook {
  resolve(): void;
  reject(e: unknown): void;
}

export type View = ReturnType<Level<Buffer, Buffer>['snapshot']>;

/** The point in time of a snapshot: its epoch, and a LevelDB view taken once its writes landed. */
export interface Cut {
  readonly epoch: number;
  readonly view: Promise<View>;
}

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A folder name from an id: anything but letters, digits, '.', '_' and '-' is escaped. */
export function safeSegment(id: string): string {
  const s = id.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s === '.' || s === '..' || s === '' ? `%${s}` : s;
}
