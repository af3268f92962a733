import type { TaskMetrics } from '@mobius/interface';

/** A registered worker, as the coordinator keeps it. */
export interface WorkerRecord {
  readonly id: string;
  readonly endpoint: string;
  /** Data endpoints of its task threads, in thread order (absent: its tasks run on its main thread). */
  readonly slotEndpoints?: readonly string[];
  readonly slots: number;
  readonly pid: number;
  lastHeartbeat: number;
  readonly registeredAt: number;
  /** When the control connection was seen closing (ZeroMQ's socket monitor); cleared by a heartbeat. */
  disconnectedAt?: number;
  /**
   * Its heartbeats come from its heartbeat thread: a quiet main connection then means a busy
   * main thread, not a dead worker.
   */
  heartbeatThread?: boolean;
  /** The task attempts the worker's last heartbeat reported running. */
  running: readonly RunningAttempt[];
}

/** A task attempt a worker runs. */
export interface RunningAttempt {
  readonly jobId: string;
  readonly taskId: string;
  readonly attempt: number;
}

/** How log lines and errors name a worker. */
export function describeWorker(worker: WorkerRecord): string {
  return `worker ${worker.id} (pid ${worker.pid}, ${worker.endpoint})`;
}

/** A heartbeat names each task `jobId/taskId`. */
export function runningAttempt(m: TaskMetrics): RunningAttempt {
  const slash = m.taskId.indexOf('/');
  return { jobId: m.taskId.slice(0, slash), taskId: m.taskId.slice(slash + 1), attempt: m.attempt };
}
