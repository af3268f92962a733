import { Worker as Thread } from 'node:worker_threads';
import type { ControlMessage, Logger } from '@mobius/interface';
import { ThreadRpc, decodeCollectBatch, threadEntry, type FromTaskThread, type ToTaskThread } from '@mobius/jobmaster';
import { ColumnFrameCodec, ThreadHub } from '@mobius/transport-threads';
import type { TaskThreadData, TaskThreadSiblings, TaskThreadStarted } from './task-thread-data.js';

/** What the task threads are started with. */
export interface TaskThreadsOptions {
  /** How many threads (`--task-threads`). */
  readonly count: number;
  /** What each thread's network transport is built with: the worker's data transport options. */
  readonly host: string;
  readonly transport?: string;
  readonly curve?: { readonly publicKey: string; readonly secretKey: string };
  /** The heartbeat thread's progress cells. */
  readonly progress: Int32Array;
  readonly logger: Logger;
  /** Forwards a collect sink's batch to the coordinator and returns its answer. */
  collect(message: Extract<ControlMessage, { type: 'collect' }>): Promise<ControlMessage>;
  /** A thread ended on its own (not through `close()`): its tasks are gone. */
  onLost(index: number, exitCode: number): void;
}

/** What a job's host takes of its tasks' reports (states, acks, counters). */
export interface TaskThreadListener {
  received(message: Exclude<FromTaskThread, { t: 'reply' } | { t: 'collect' }>): void;
}

/** A request to a task thread, without the id its rpc adds. */
type ThreadRequest = Extract<ToTaskThread, { id: number }> extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

interface TaskThread {
  readonly thread: Thread;
  readonly rpc: ThreadRpc<FromTaskThread>;
  readonly endpoint: string;
}

/**
 * A worker's task threads, one per slot by default, shared by every job the worker runs: each
 * binds its own data transport and hosts tasks (task-thread.ts). Requests and reports travel
 * on the task thread protocol of @mobius/jobmaster; reports go to the job's listener (its
 * ThreadedJobHost), collected batches to the coordinator. This thread never runs user code.
 */
export class TaskThreads {
  private readonly hub: ThreadHub;
  private threads: TaskThread[] = [];
  private readonly listeners = new Map<string, TaskThreadListener>();
  /** Decodes the collect batches the threads send encoded (their ThreadTaskHost has the same codec). */
  private readonly collectCodec = new ColumnFrameCodec();
  private closing = false;

  constructor(private readonly options: TaskThreadsOptions) {
    if (!Number.isInteger(options.count) || options.count < 1) throw new RangeError(`task threads must be a positive integer, got ${String(options.count)}`);
    this.hub = new ThreadHub(options.logger);
  }

  get count(): number {
    return this.options.count;
  }

  /** The network endpoint of each thread, in thread order (what the worker registers as `slotEndpoints`). */
  get endpoints(): string[] {
    return this.threads.map((t) => t.endpoint);
  }

  /** Starts every thread and waits until each bound its transport; rejects (threads stopped) when one cannot. */
  async start(): Promise<void> {
    const entry = threadEntry(import.meta.url, 'task-thread.js', 'the task thread', 'mobius-cluster');
    const starting = Array.from({ length: this.options.count }, (_, index) => this.spawn(entry, index));
    const started = await Promise.allSettled(starting);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    const threads = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (failed !== undefined) {
      this.closing = true;
      await Promise.all(threads.map((t) => t.thread.thread.terminate()));
      this.hub.close();
      throw failed.reason;
    }
    const siblings = threads.map((t) => [t.thread.endpoint, t.threadEndpoint] as const);
    this.threads = threads.map((t, index) => {
      t.thread.thread.postMessage({ t: 'siblings', siblings } satisfies TaskThreadSiblings);
      t.thread.thread.once('exit', (code) => this.lost(index, t.thread, code));
      return t.thread;
    });
  }

  private async spawn(entry: URL, index: number): Promise<{ thread: TaskThread; threadEndpoint: string }> {
    const link = this.hub.link(index);
    const { host, transport, curve, progress } = this.options;
    const data: TaskThreadData = { index, link, host, transport, curve, progress };
    const thread = new Thread(entry, { workerData: data, transferList: [link.port] });
    this.hub.watch(index, thread);
    thread.on('error', (e) => this.options.logger.error({ taskThread: index, err: e }, 'a task thread failed'));
    const started = await new Promise<TaskThreadStarted>((resolve, reject) => {
      const exited = (code: number): void => reject(new Error(`task thread ${index} exited with code ${code} while starting`));
      thread.once('exit', exited);
      thread.once('message', (m: TaskThreadStarted) => {
        thread.off('exit', exited);
        resolve(m);
      });
    });
    if (started.t === 'start-failed') {
      await thread.terminate();
      throw new Error(`task thread ${index} could not start its data transport: ${started.message}`);
    }
    const rpc = new ThreadRpc<FromTaskThread>(thread, (m) => this.received(rpc, m));
    return { thread: { thread, rpc, endpoint: started.endpoint }, threadEndpoint: started.threadEndpoint };
  }

  /** Reports of job `jobId`'s tasks go to `listener` (the job's newest host) from now on. */
  listen(jobId: string, listener: TaskThreadListener): void {
    this.listeners.set(jobId, listener);
  }

  /** Stops the reports of `jobId` going to `listener` (unless a newer host took the job). */
  unlisten(jobId: string, listener: TaskThreadListener): void {
    if (this.listeners.get(jobId) === listener) this.listeners.delete(jobId);
  }

  request<T>(index: number, message: ThreadRequest): Promise<T> {
    return this.threads[index]!.rpc.request<T>(message);
  }

  post(index: number, message: Exclude<ToTaskThread, { id: number }>): void {
    this.threads[index]!.rpc.post(message);
  }

  private received(rpc: ThreadRpc<FromTaskThread>, m: FromTaskThread): void {
    if (m.t === 'reply') return;
    if (m.t === 'collect') {
      Promise.resolve()
        .then(() => this.options.collect(decodeCollectBatch(m, this.collectCodec)))
        .then(
        (value) => rpc.post({ t: 'reply', id: m.id, ok: true, value }),
        (e: unknown) => rpc.post({ t: 'reply', id: m.id, ok: false, error: { name: 'MobiusError', message: e instanceof Error ? e.message : String(e) } }),
      );
      return;
    }
    this.listeners.get(m.jobId)?.received(m);
  }

  private lost(index: number, thread: TaskThread, code: number): void {
    thread.rpc.fail(`task thread ${index} exited (code ${code})`);
    if (!this.closing) this.options.onLost(index, code);
  }

  /** Stops every thread (their tasks were cancelled before, or die with them). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.thread.terminate()));
    this.hub.close();
  }
}
