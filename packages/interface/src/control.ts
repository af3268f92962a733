import type { Determinant } from './frame.js';
import type { TaskMetrics } from './runner.js';
import type { RescalePreparation } from './task-gateway.js';

/**
 * A task's progress as a worker's heartbeat thread reads it from the counters its task loop
 * bumps: records processed so far (wrapping at 2^31) and whether the task holds its thread with
 * input in hand right now (`busy`). A busy task whose count does not move is stalled.
 */
export interface TaskProgressReport {
  /** `jobId/taskId`, as in the heartbeat's `tasks`. */
  readonly taskId: string;
  readonly attempt: number;
  readonly records: number;
  readonly busy: boolean;
}

/** A task's state as a worker reports it. */
export type TaskRunState = 'DEPLOYING' | 'RUNNING' | 'FINISHED' | 'CANCELED' | 'FAILED';

/** Messages between the coordinator and workers (encoded by the control channel's codec). */
export type ControlMessage =
  | {
      readonly type: 'register';
      readonly workerId: string;
      /** Data endpoint of the worker's transport. */
      readonly endpoint: string;
      readonly slots: number;
      readonly pid: number;
      readonly token?: string;
      /**
       * Data endpoints of the worker's task threads, one per thread, in thread order (absent: its
       * tasks run on the main thread, at `endpoint`). A task's endpoint is the one of its thread,
       * `taskSlots()` of `@mobius/jobmaster` picks it.
       */
      readonly slotEndpoints?: readonly string[];
      /**
       * Tasks the worker runs (or keeps ended), when it registers again with a restarted
       * coordinator: the coordinator takes its running jobs back from these.
       */
      readonly tasks?: readonly {
        readonly jobId: string;
        readonly taskId: string;
        readonly attempt: number;
        readonly state: 'RUNNING' | 'FINISHED';
        readonly metrics?: TaskMetrics;
      }[];
    }
  | { readonly type: 'registered'; readonly workerId: string; readonly heartbeatMs: number }
  /** The coordinator does not know this worker (it restarted): register again, with your tasks. */
  | { readonly type: 'reregister' }
  | {
      readonly type: 'heartbeat';
      readonly workerId: string;
      readonly time: number;
      readonly tasks: readonly TaskMetrics[];
      /** Per-task progress read by the worker's heartbeat thread (absent from older workers). */
      readonly progress?: readonly TaskProgressReport[];
    }
  | {
      readonly type: 'deploy';
      readonly jobId: string;
      readonly name: string;
      /** The job module bundle (ESM source); the worker imports it in planning mode. */
      readonly bundle: string;
      /** The job's own arguments: the bundle sees them in process.argv.slice(2). */
      readonly args?: readonly string[];
      /** The coordinator's graph hash: a worker whose rebuilt graph differs refuses to run. */
      readonly graphHash: string;
      /** taskId → data endpoint of the worker running it, for every task of the job. */
      readonly endpoints: Readonly<Record<string, string>>;
      /**
       * The tasks to start here. A task recovered on its own (single-task failover) carries the
       * determinant log a downstream task kept of it: it replays its inputs in that order first.
       */
      readonly tasks: readonly { readonly taskId: string; readonly attempt: number; readonly determinants?: readonly Determinant[] }[];
      /** taskId → current attempt of every task of the job (channel ids name both ends' attempts). Default: each task's own. */
      readonly attempts?: Readonly<Record<string, number>>;
      /** Checkpoints up to this id were aborted or completed before this deployment: their barriers are stale. */
      readonly staleCheckpointsThrough?: number;
      /** With checkpoints on: the shared checkpoint store's folder the tasks write snapshots to. */
      readonly checkpointDir?: string;
      /**
       * Restore from a checkpoint or savepoint: the store folder it lives in and the snapshot
       * handles to read, oldest first (every task of the checkpointed job, since keyed state may
       * come from any of them, and the bases of incremental snapshots).
       */
      readonly restore?: { readonly dir: string; readonly handles: readonly string[] };
      /** Vertex id → parallelism of the job's live rescales so far: the worker plans the job with them. */
      readonly overrides?: Readonly<Record<string, number>>;
      /** New tasks of a rescaled vertex (see `TaskDeploymentRequest.rescaled`). */
      readonly rescaled?: boolean;
    }
  /** Live rescaling: what the worker's tasks do at a rescale checkpoint's barrier; answered `ok` once they know. */
  | { readonly type: 'prepare-rescale'; readonly jobId: string; readonly preparation: RescalePreparation }
  /** Cancels the job's tasks on the worker (only `tasks` when given), and releases ended ones. */
  | {
      readonly type: 'cancel';
      readonly jobId: string;
      /** Only these tasks (default: every task of the job on the worker). */
      readonly tasks?: readonly string[];
      /**
       * A fence: per task id, only attempts below this one are cancelled (a newer attempt of the
       * same task on the worker keeps running). Tasks it does not name are cancelled whatever
       * their attempt.
       */
      readonly before?: Readonly<Record<string, number>>;
    }
  | {
      readonly type: 'task-state';
      readonly jobId: string;
      readonly taskId: string;
      readonly attempt: number;
      readonly state: TaskRunState;
      readonly error?: string;
      readonly metrics?: TaskMetrics;
    }
  | { readonly type: 'trigger-checkpoint'; readonly jobId: string; readonly checkpointId: number; readonly timestamp: number; readonly savepoint?: boolean }
  | { readonly type: 'ack-checkpoint'; readonly jobId: string; readonly taskId: string; readonly checkpointId: number; readonly handle: string }
  | { readonly type: 'decline-checkpoint'; readonly jobId: string; readonly taskId: string; readonly checkpointId: number; readonly reason: string }
  | { readonly type: 'checkpoint-complete'; readonly jobId: string; readonly checkpointId: number }
  | { readonly type: 'checkpoint-aborted'; readonly jobId: string; readonly checkpointId: number }
  /**
   * Single-task failover: `restarted` tasks run a new attempt at a new endpoint. Each task of the
   * job on the worker re-opens its channels to and from them; output channels replay what they
   * sent since the last completed checkpoint.
   */
  | {
      readonly type: 'rewire';
      readonly jobId: string;
      readonly restarted: Readonly<Record<string, { readonly attempt: number; readonly endpoint: string }>>;
    }
  /** Asks a worker for the determinant log its tasks hold of upstream task `taskId`. */
  | { readonly type: 'get-determinants'; readonly jobId: string; readonly taskId: string }
  | { readonly type: 'determinants'; readonly entries: readonly Determinant[] }
  /** Asks a worker which of its output channels of the job cannot replay (their buffers dropped frames). */
  | { readonly type: 'get-replay-status'; readonly jobId: string }
  /** Coordinator → worker: answered `ok` at once by the worker's main thread (how responsive it is, whatever its tasks do). */
  | { readonly type: 'ping' }
  | { readonly type: 'replay-status'; readonly unreplayable: readonly string[] }
  /**
   * Records of a collect sink task for the caller (a request; records may be empty to ask for
   * room). The reply is `ok`, or `collect-full` when the coordinator holds `collect.buffer.max-bytes`
   * of the job unread: the batch was taken, send no more records until a reply says `ok`.
   */
  | { readonly type: 'collect'; readonly jobId: string; readonly collectId: string; readonly taskIndex: number; readonly records: readonly unknown[] }
  | { readonly type: 'collect-full' }
  | { readonly type: 'ok' }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

/** Request/response and one-way pushes between the coordinator and workers. */
export interface ControlChannel {
  request(peer: string, message: ControlMessage, timeoutMs?: number): Promise<ControlMessage>;
  push(peer: string, message: ControlMessage): void;
  onRequest(handler: (from: string, message: ControlMessage) => ControlMessage | Promise<ControlMessage>): void;
  onPush(handler: (from: string, message: ControlMessage) => void): void;
}
