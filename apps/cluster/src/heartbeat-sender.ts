import { Worker as Thread } from 'node:worker_threads';
import type { Logger, TaskMetrics } from '@mobius/interface';
import { TaskProgress } from '@mobius/runtime';
import { threadEntry } from '@mobius/jobmaster';

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
  /** The task list from now on; the thread answers `{ type: 'published', seq }` once it holds it. */
  | { readonly type: 'tasks'; readonly tasks: readonly TaskMetrics[]; readonly slots: readonly ProgressSlot[]; readonly seq: number }
  /** Registered: send heartbeats every `heartbeatMs`. */
  | { readonly type: 'begin'; readonly heartbeatMs: number }
  | { readonly type: 'stop' };

/** From the heartbeat thread to the main thread, once it started. */
export interface HeartbeatThreadReply {
  readonly type: 'published';
  readonly seq: number;
}

/** Longest wait for the thread to take a task list (it is never held up by task code: a live thread answers at once). */
const PUBLISH_TIMEOUT_MS = 1000;

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
  private seq = 0;
  /** Publishes not yet taken by the thread, oldest first; each resolves when its list (or a newer one) is taken. */
  private readonly unconfirmed: { readonly seq: number; resolve(): void }[] = [];

  constructor(private readonly logger: Logger) {
    for (let i = PROGRESS_SLOTS - 1; i >= 0; i--) this.free.push(i);
  }

  /**
   * Starts the thread (loading it takes a while on a busy machine: the worker starts it early
   * and sends heartbeats itself until it runs); resolves once its control connection is up.
   */
  async start(coordinator: string, workerId: string): Promise<void> {
    const data: HeartbeatThreadData = { coordinator, workerId, progress: this.shared };
    const thread = new Thread(threadEntry(import.meta.url, 'heartbeat-thread.js', 'the heartbeat thread', 'mobius-cluster'), { workerData: data });
    this.thread = thread;
    this.ended = new Promise((resolve) => thread.once('exit', () => resolve()));
    thread.on('error', (e) => this.logger.error({ err: e }, 'the heartbeat thread failed'));
    await new Promise<void>((resolve, reject) => {
      thread.once('message', (m: { type: string; message?: string }) => (m.type === 'started' ? resolve() : reject(new Error(`the heartbeat thread could not start: ${m.message}`))));
      thread.once('exit', (code) => reject(new Error(`the heartbeat thread exited with code ${code} while starting`)));
    });
    thread.on('message', (m: HeartbeatThreadReply) => {
      if (m.type === 'published') this.confirm(m.seq);
    });
    thread.once('exit', () => this.confirm(Number.MAX_SAFE_INTEGER));
  }

  /** The thread takes over the heartbeats, one every `heartbeatMs`. */
  begin(heartbeatMs: number): void {
    this.thread?.postMessage({ type: 'begin', heartbeatMs } satisfies HeartbeatThreadMessage);
    this.running = this.thread !== undefined;
  }

  /** The shared cells of every slot: task threads write the ones of their tasks (`claimSlot`). */
  get progressCells(): Int32Array {
    return this.cells;
  }

  /** Progress cells for a task attempt (detached ones when every slot is taken). */
  claim(taskId: string, attempt: number): { readonly progress: TaskProgress; release(): void } {
    const { slot, release } = this.claimSlot(taskId, attempt);
    return { progress: slot === undefined ? TaskProgress.detached() : TaskProgress.inShared(this.cells, slot), release };
  }

  // claimSlot resets the slot's cells (TaskProgress.inShared does), so the heartbeat thread never
  // reads what a previous task left there while the new one is still on its way to its thread.

  /**
   * A slot of `progressCells` for a task attempt that runs on another thread (undefined when
   * every slot is taken: the task is then never seen stalled).
   */
  claimSlot(taskId: string, attempt: number): { readonly slot: number | undefined; release(): void } {
    const slot = this.free.pop();
    if (slot === undefined) return { slot: undefined, release: () => undefined };
    TaskProgress.inShared(this.cells, slot);
    this.slots.set(slot, { slot, taskId, attempt });
    let released = false;
    return {
      slot,
      release: () => {
        if (released) return;
        released = true;
        this.slots.delete(slot);
        this.free.push(slot);
      },
    };
  }

  /**
   * The task list the next heartbeats carry (sent from the thread until the next publish).
   * Resolves once the thread holds it, so every heartbeat sent after that carries it (or after
   * a second, or at once without a thread); never rejects.
   */
  publish(tasks: readonly TaskMetrics[]): Promise<void> {
    const thread = this.thread;
    if (thread === undefined) return Promise.resolve();
    const seq = ++this.seq;
    thread.postMessage({ type: 'tasks', tasks, slots: [...this.slots.values()], seq } satisfies HeartbeatThreadMessage);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.confirm(seq), PUBLISH_TIMEOUT_MS);
      this.unconfirmed.push({
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** The thread took the list of publish `seq`: it and every older publish are done. */
  private confirm(seq: number): void {
    while (this.unconfirmed.length > 0 && this.unconfirmed[0]!.seq <= seq) this.unconfirmed.shift()!.resolve();
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
