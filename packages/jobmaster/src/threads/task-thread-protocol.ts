import type { CollectBatch } from './collect-batches.js';
import type { CancelTasks, ControlMessage, RescalePreparation, RestartedTasks, TaskDeploymentRequest, TaskMetrics, TaskSnapshot, TaskStateUpdate } from '@mobius/interface';

/**
 * Where a task thread finds a job's code: it imports the module in planning mode (its first
 * `submit()` hands the graph over), as a cluster worker imports a job bundle, with
 * `process.argv` set to `[node, file, ...args]` so the job builds the same graph.
 */
export interface JobSource {
  readonly file: string;
  readonly args: readonly string[];
}

/** An error as it crosses threads (structured clone keeps no class and no own property). */
export interface ErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

/** What the main thread asks of a task thread. Messages with an `id` are answered with a `reply` of that id. */
export type ToTaskThread =
  | {
      readonly t: 'load';
      readonly id: number;
      readonly jobId: string;
      readonly name: string;
      readonly source: JobSource;
      /** The graph hash the main thread planned: the thread's import must build the same graph. */
      readonly graphHash: string;
      /** Where snapshots go and restores come from, when the job checkpoints. */
      readonly checkpointDir?: string;
      /**
       * taskId → endpoint of the thread running it, for every task of the job. Absent (a cluster
       * worker's threads): the tasks find their peers in the endpoints each deployment brings.
       */
      readonly endpoints?: Readonly<Record<string, string>>;
    }
  | {
      readonly t: 'deploy';
      readonly id: number;
      readonly request: TaskDeploymentRequest;
      /** The snapshots to restore, already read by the main thread (else the thread reads `request.restore`). */
      readonly snapshots?: readonly TaskSnapshot[];
      /** taskId → slot of the shared progress cells (`ThreadTaskHostOptions.progress`) the task's loop writes. */
      readonly progress?: Readonly<Record<string, number>>;
    }
  /** Answered once the tasks it stopped have stopped. */
  | { readonly t: 'cancel'; readonly id: number; readonly jobId: string; readonly which?: CancelTasks }
  | { readonly t: 'trigger'; readonly jobId: string; readonly checkpointId: number; readonly timestamp: number; readonly savepoint: boolean }
  | { readonly t: 'complete'; readonly jobId: string; readonly checkpointId: number }
  | { readonly t: 'aborted'; readonly jobId: string; readonly checkpointId: number }
  | { readonly t: 'rewire'; readonly jobId: string; readonly restarted: RestartedTasks }
  /** Answered once the thread's tasks know what to do at the rescale barrier. */
  | { readonly t: 'prepare-rescale'; readonly id: number; readonly jobId: string; readonly preparation: RescalePreparation }
  | { readonly t: 'replay-status'; readonly id: number; readonly jobId: string }
  | { readonly t: 'determinants'; readonly id: number; readonly jobId: string; readonly taskId: string }
  | { readonly t: 'unload'; readonly id: number; readonly jobId: string }
  /** The answer to a thread's `collect` request. */
  | { readonly t: 'reply'; readonly id: number; readonly ok: true; readonly value?: unknown }
  | { readonly t: 'reply'; readonly id: number; readonly ok: false; readonly error: ErrorInfo };

/** What a task thread tells the main thread. */
export type FromTaskThread =
  | { readonly t: 'reply'; readonly id: number; readonly ok: true; readonly value?: unknown }
  | { readonly t: 'reply'; readonly id: number; readonly ok: false; readonly error: ErrorInfo }
  | { readonly t: 'state'; readonly jobId: string; readonly update: Omit<TaskStateUpdate, 'cause'> & { readonly cause?: ErrorInfo } }
  | { readonly t: 'ack'; readonly jobId: string; readonly taskId: string; readonly checkpointId: number; readonly handle: string }
  | { readonly t: 'decline'; readonly jobId: string; readonly taskId: string; readonly checkpointId: number; readonly reason: string }
  | { readonly t: 'metrics'; readonly jobId: string; readonly tasks: readonly TaskMetrics[] }
  /** A collect sink's batch for the caller (a `collect` control message); answered with a reply whose value is the ControlMessage reply. */
  | ({ readonly t: 'collect'; readonly id: number } & CollectBatch);

