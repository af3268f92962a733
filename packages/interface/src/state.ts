import type { Serializer } from './codec.js';
import type { KeyGroupRange } from './plan.js';

/** A key after normalisation: primitives as they are, composite keys as a canonical string. */
export type StateKey = string | number | boolean;

/** Per-key values of one named state of one task. */
export interface KeyedStore<V> {
  get(key: StateKey): V | undefined;
  put(key: StateKey, value: V): void;
  delete(key: StateKey): void;
  /** Number of keys held. */
  size(): number;
}

/** Where a task's state lives and which key groups it owns. */
export interface TaskStateScope {
  readonly jobId: string;
  readonly operatorId: string;
  readonly taskIndex: number;
  readonly maxParallelism: number;
  readonly keyGroups: KeyGroupRange;
  /** The stable key-group hash (the same in every process). */
  keyGroupOf(key: StateKey): number;
}

/**
 * A snapshot of one task's state for one checkpoint, split by key group.
 *
 * A backend may take incremental snapshots: `incremental: true` holds only what changed since
 * the snapshot of checkpoint `baseCheckpointId` of the same task, and restoring it needs its
 * base chain, oldest first (what a checkpoint store hands `restore`). A backend without them
 * leaves both fields out (a full snapshot).
 */
export interface StateSnapshot {
  readonly backend: string;
  readonly operatorId: string;
  readonly checkpointId: number;
  readonly keyGroups: KeyGroupRange;
  /** Encoded state per key group (key group → bytes), plus operator state under -1. */
  readonly groups: ReadonlyMap<number, Uint8Array>;
  /** True if `groups` holds only the changes since `baseCheckpointId`. Default false. */
  readonly incremental?: boolean;
  /** The checkpoint this snapshot is a delta on (only when `incremental`). */
  readonly baseCheckpointId?: number;
}

/** How to take a snapshot. */
export interface SnapshotOptions {
  /**
   * A self-contained snapshot (a savepoint): a backend with incremental snapshots takes a full
   * one, whatever its schedule.
   */
  readonly full?: boolean;
}

/** The state of one task. */
export interface TaskStateBackend {
  keyed<V>(name: string, serializer?: Serializer<V>): KeyedStore<V>;
  /**
   * True: keyed operators keep their timers in this backend's keyed state (a backend that
   * spills to disk, so timers leave the heap with the rest of the state); otherwise they keep
   * them on the heap and in the task snapshot. Default false.
   */
  readonly timersInState?: boolean;
  snapshot(checkpointId: number, options?: SnapshotOptions): Promise<StateSnapshot>;
  /** Restores from one or more snapshots, keeping only the key groups this task owns. */
  restore(snapshots: readonly StateSnapshot[]): Promise<void>;
  /**
   * Checkpoint `checkpointId` completed everywhere: a backend may drop what only older
   * snapshots needed. A failure is logged by the task, not fatal.
   */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  /** Checkpoint `checkpointId` will never complete: a later incremental snapshot must not build on it. */
  notifyCheckpointAborted?(checkpointId: number): void;
  close(): Promise<void>;
}

/** A state backend plugin: creates the state of each task. */
export interface StateBackend {
  readonly kind: string;
  create(scope: TaskStateScope): TaskStateBackend;
}
