import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import type { Logger, TaskMetrics } from '@mobius/interface';
import { TaskProgress } from '@mobius/runtime';

/** What the heartbeat thread starts with. */
export interface HeartbeatThreadData {
  readonly coordinator: string;
  readonly workerId: string;
  /** `slots × TaskProgress.CELLS` Int32 cells the task loops write. */
  readonly progress: SharedArrayBuffer;
}

/** Which task's progress a slot of the shared cells holds. */
export interface ProgressSlot {
  readonly slot: number;
  /** `jobId/taskId`. */
  readonly taskId: string;
  readonly attempt: number;
}

/** From the main thread to the heartbeat thread. */
export type HeartbeatThreadMessage =
  | { readonly type: 'tasks'; readonly tasks: readonly TaskMetrics[]; readonly slots: readonly ProgressSlot[] }
  /** Registered: send heartbeats every `heartbeatMs`. */
  | { readonly type: 'begin'; readonly heartbeatMs: number }
  | { readonly type: 'stop' };

/** Tasks a worker follows the progress of; more run, unfollowed (they are never seen stalled). */
export const PROGRESS_SLOTS = 1024;

/**
 * The worker's side of its heartbeat thread: starts the thread, hands each task progress cells
 * in shared memory, and publishes the task list (with metrics) whenever the main thread gets to
 * it; the thread sends heartbeats on its own clock in any case.
 */
export class HeartbeatSender {
  private readonly shared = new SharedArrayBuffer(PROGRESS_SLOTS * TaskProgress.CELLS * Int32Array.BYTES_PER_ELEMENT);
  private readonly cells = new Int32Array(this.shared);
  private readonly free: number[] = [];
  private readonly slots = new Map<number, ProgressSlot>();
  private thread: Thread | undefined;
  /** The thread sends the heartbeats (until then, the worker sends them itself). */
  running = false;
  private ended: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {
    for (let i = PROGRESS_SLOTS - 1; i >= 0; i--) this.free.push(i);
  }

  /**
   * Starts the thread (loading it takes a while on a busy machine: the worker starts it early
   * and sends heartbeats itself until it runs); resolves once its control connection is up.
   */
  async start(coordinator: string, workerId: string): Promise<void> {
    const data: HeartbeatThreadData = { coordinator, workerId, progress: this.shared };
    const thread = new Thread(threadEntry(), { workerData: data });
    this.thread = thread;
    this.ended = new Promise((resolve) => thread.once('exit', () => resolve()));
    thread.on('error', (e) => this.logger.error({ err: e }, 'the heartbeat thread failed'));
    await new Promise<void>((resolve, reject) => {
      thread.once('message', (m: { type: string; message?: string }) => (m.type === 'started' ? resolve() : reject(new Error(`the heartbeat thread could not start: ${m.message}`))));
      thread.once('exit', (code) => reject(new Error(`the heartbeat thread exited with code ${code} while starting`)));
    });
  }

  /** The thread takes over the heartbeats, one every `heartbeatMs`. */
  begin(heartbeatMs: number): void {
    this.thread?.postMessage({ type: 'begin', heartbeatMs } satisfies HeartbeatThreadMessage);
    this.running = this.thread !== undefined;
  }

  /** Progress cells for a task attempt (detached ones when every slot is taken). */
  claim(taskId: string, attempt: number): { readonly progress: TaskProgress; release(): void } {
    const slot = this.free.pop();
    if (slot === undefined) return { progress: TaskProgress.detached(), release: () => undefined };
    this.slots.set(slot, { slot, taskId, attempt });
    let released = false;
    return {
      progress: TaskProgress.inShared(this.cells, slot),
      release: () => {
        if (released) return;
        released = true;
        this.slots.delete(slot);
        this.free.push(slot);
      },
    };
  }

  /** The task list the next heartbeats carry (sent from the thread until the next publish). */
  publish(tasks: readonly TaskMetrics[]): void {
    this.thread?.postMessage({ type: 'tasks', tasks, slots: [...this.slots.values()] } satisfies HeartbeatThreadMessage);
  }

  /** Stops the thread after its queued heartbeats went out. */
  async stop(): Promise<void> {
    const thread = this.thread;
    if (thread === undefined) return;
    this.thread = undefined;
    this.running = false;
    thread.postMessage({ type: 'stop' } satisfies HeartbeatThreadMessage);
    await this.ended;
  }
}

/**
 * The built thread file next to this module; from the sources (this package's tests), the one in
 * `dist/` (a worker thread cannot load TypeScript through a loader given in its execArgv).
 */
function threadEntry(): URL {
  const beside = new URL('./heartbeat-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../dist/heartbeat-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`the heartbeat thread's file is missing (${fileURLToPath(beside)}): build mobius-cluster first`);
}
