import { CoreOptions, getConfig, type CheckpointMetadata, type CheckpointStore, type ExecutionPlan, type Logger, type RestoreHandles } from '@mobius/interface';
import { CheckpointCoordinator, compactCheckpoint, snapshotsToRestore } from '@mobius/failover';
import { decodeTaskSnapshot, encodeTaskSnapshot } from '@mobius/runtime';

/** Merges a chain of incremental state snapshots (oldest first) into one full snapshot. */
export type StateCompactor = (chain: readonly object[]) => object;

/** Where checkpoint messages go: the job master sends them to the workers of the job. */
export interface CheckpointingHooks {
  trigger(checkpointId: number, timestamp: number, savepoint: boolean): void;
  completed(checkpointId: number): void;
  aborted(checkpointId: number): void;
  /** The checkpoint-id lease moved: the job record must be written. */
  leased(): void;
}

export interface JobCheckpointingOptions {
  readonly jobId: string;
  readonly plan: ExecutionPlan;
  readonly store: CheckpointStore;
  /** The store's location, as deployments name it (restore handles' `dir`). */
  readonly dir: string;
  readonly retained: number;
  readonly compactor?: StateCompactor;
  readonly logger: Logger;
  readonly hooks: CheckpointingHooks;
}

/**
 * A job's checkpoints across its recoveries: one CheckpointCoordinator per deployment, ids
 * that never repeat (leased in blocks, durably, so that a restarted coordinator starts past the
 * lease), background compaction of completed checkpoints, and the restore handles a
 * deployment reads.
 */
export class JobCheckpointing {
  nextCheckpointId = 1;
  /** Checkpoint ids below this are leased (persisted). */
  reservedCheckpointId = 0;
  lastCompletedCheckpoint: number | undefined = undefined;
  private coordinator: CheckpointCoordinator | undefined;
  /** Background compactions, one after another. */
  private compaction: Promise<void> = Promise.resolve();
  /** The last stop() (a checkpoint completing during it starts one more compaction). */
  private stopping: Promise<void> = Promise.resolve();

  /** The plan whose tasks the next coordinator waits for (a live rescale replaces it). */
  plan: ExecutionPlan;

  constructor(private readonly options: JobCheckpointingOptions) {
    this.plan = options.plan;
  }

  get store(): CheckpointStore {
    return this.options.store;
  }

  get dir(): string {
    return this.options.dir;
  }

  /** The coordinator of the current deployment, if any. */
  get current(): CheckpointCoordinator | undefined {
    return this.coordinator;
  }

  /** A fresh coordinator for a new deployment (ids continue); not started. */
  renew(): CheckpointCoordinator {
    const { hooks } = this.options;
    const plan = this.plan;
    this.coordinator = new CheckpointCoordinator({
      jobId: this.options.jobId,
      tasks: plan.tasks.map((t) => t.id),
      store: this.options.store,
      intervalMs: getConfig(plan.config, CoreOptions.CHECKPOINT_INTERVAL_MS),
      timeoutMs: getConfig(plan.config, CoreOptions.CHECKPOINT_TIMEOUT_MS),
      retained: this.options.retained,
      firstCheckpointId: this.nextCheckpointId,
      logger: this.options.logger,
      trigger: (checkpointId, timestamp, savepoint) => {
        if (checkpointId >= this.reservedCheckpointId) {
          this.reservedCheckpointId = checkpointId + 100;
          hooks.leased();
        }
        hooks.trigger(checkpointId, timestamp, savepoint);
      },
      notifyComplete: (checkpointId) => {
        this.lastCompletedCheckpoint = checkpointId;
        hooks.completed(checkpointId);
        this.compactInBackground(checkpointId);
      },
      notifyAborted: (checkpointId) => hooks.aborted(checkpointId),
    });
    return this.coordinator;
  }

  /** Aborts the checkpoint in flight, stops the coordinator and moves the ids past what it used. */
  async stop(reason?: string): Promise<void> {
    const coordinator = this.coordinator;
    if (coordinator === undefined) return;
    if (reason !== undefined) coordinator.abort(reason);
    this.nextCheckpointId += coordinator.stats().triggered;
    this.coordinator = undefined;
    this.stopping = coordinator.stop();
    await this.stopping;
  }

  /** The last checkpoint completed by any of the job's coordinators. */
  lastCompleted(): number | undefined {
    return this.coordinator?.stats().lastCompletedId ?? this.lastCompletedCheckpoint;
  }

  latestValid(): Promise<CheckpointMetadata | undefined> {
    return this.options.store.latestValid(this.options.jobId);
  }

  /** Handles to restore `latest` (every task's, or only `taskId`'s), with the bases of incremental snapshots. */
  async restoreHandles(latest: CheckpointMetadata, taskId?: string): Promise<RestoreHandles> {
    const metadata = taskId === undefined ? latest : { ...latest, tasks: { [taskId]: latest.tasks[taskId] } };
    return (await this.restoreOf(metadata)).restore;
  }

  /** Handles to restore every task of `metadata` (with the bases of incremental snapshots), and the bytes of those snapshots. */
  async restoreOf(metadata: CheckpointMetadata): Promise<{ restore: RestoreHandles; bytes: number }> {
    const { store, compactor, dir } = this.options;
    // Without a compactor the backend's snapshots are full (no incremental bases to find): the
    // handles are the checkpoint's own, and the files' sizes give the bytes; nothing is read (a
    // rescale's pause no longer includes reading and decoding every old snapshot twice).
    if (compactor === undefined && store.taskStateSize !== undefined) {
      const handles = [...new Set(Object.values(metadata.tasks))];
      const sizes = await Promise.all(handles.map((h) => store.taskStateSize!(h)));
      return { restore: { dir, handles }, bytes: sizes.reduce((a, b) => a + b, 0) };
    }
    const { handles, bytes } = await snapshotsToRestore(store, this.options.jobId, metadata, decodeTaskSnapshot);
    return { restore: { dir, handles }, bytes };
  }

  /** Waits for the last stop and every compaction it led to. */
  async idle(): Promise<void> {
    await this.stopping;
    let seen: Promise<void> | undefined;
    while (seen !== this.compaction) {
      seen = this.compaction;
      await seen;
    }
  }

  /** Merges the checkpoint's incremental state chains into full snapshots, off the task loops. */
  private compactInBackground(checkpointId: number): void {
    const { compactor, store, jobId, logger } = this.options;
    if (compactor === undefined) return;
    this.compaction = this.compaction
      .then(async () => {
        const metadata = (await store.list(jobId)).find((m) => m.checkpointId === checkpointId);
        if (metadata === undefined) return; // already past retention
        const rewritten = await compactCheckpoint(store, jobId, metadata, { decode: decodeTaskSnapshot, encode: encodeTaskSnapshot }, compactor);
        if (rewritten > 0) logger.debug({ jobId, checkpointId, tasks: rewritten }, 'checkpoint compacted');
      })
      .catch((e: unknown) => logger.warn({ jobId, checkpointId, err: e }, 'compacting a checkpoint failed; restores read its chain instead'));
  }
}
