import { encodeCollectBatch } from './collect-batches.js';
import { CoreOptions, MobiusError, getConfig, type CheckpointStore, type Codec, type ControlMessage, type ExecutionPlan, type LogicalGraph, type Logger, type RescalePreparation, type StateBackend, type Transport } from '@mobius/interface';
import { readTaskSnapshots, storeCheckpointListener } from '../task-snapshots.js';
import { attachTaskProgress, TaskProgress } from '@mobius/runtime';
import { JobTaskExecutor } from '../task-executor.js';
import { errorInfo } from './error-info.js';
import type { FromTaskThread, JobSource, ToTaskThread } from './task-thread-protocol.js';
import { ThreadRpc, type MessagePortLike } from './thread-rpc.js';

/** What a task thread's entry module gives the host: the process-specific parts. */
export interface ThreadTaskHostOptions {
  /** The port to the main thread (`parentPort`). */
  readonly port: MessagePortLike;
  /** This thread's data transport (channels to tasks of this thread and of the others). */
  readonly transport: Transport;
  readonly logger: Logger;
  /** Imports the job's module in planning mode and plans it. */
  loadJob(source: JobSource, name: string): Promise<{ readonly graph: LogicalGraph; readonly plan: ExecutionPlan }>;
  /** The job's state backend in this thread (what it leaves on disk is the main thread's to remove, once every thread is done). */
  stateBackend(plan: ExecutionPlan): StateBackend;
  checkpointStore(dir: string): CheckpointStore;
  /**
   * Registers the job's collect target in this thread (records go to the main thread through
   * `send`); returns the call that removes it, or undefined when the job has no collect sink.
   */
  /** Encodes collect batches for the main thread (it decodes them with the same codec); without one they are cloned. */
  readonly collectCodec?: Codec;
  registerCollect(jobId: string, plan: ExecutionPlan, send: (message: ControlMessage) => Promise<ControlMessage>): (() => void) | undefined;
  /**
   * Progress cells the main thread's heartbeat thread reads (`TaskProgress.CELLS` Int32 cells per
   * slot); a deployment names each task's slot. Without them, tasks write detached cells.
   */
  readonly progress?: Int32Array;
  /**
   * Whether output channels keep replay buffers. Default: when the job checkpoints and fails
   * over single-task (a cluster worker keeps them always, as on its main thread).
   */
  readonly replay?: boolean;
}

interface HostedJob {
  readonly executor: JobTaskExecutor;
  /** taskId → endpoint of its thread, when the main thread gave every one at load (embedded mode); a rescale adds its new tasks. */
  readonly endpoints: Map<string, string> | undefined;
  /** taskId → progress slot its newest deployment named. */
  readonly progressSlots: Map<string, number>;
  readonly store?: CheckpointStore;
  readonly unregisterCollect?: () => void;
  readonly metricsTimer: ReturnType<typeof setInterval>;
}

/** How often a thread sends its tasks' counters to the main thread (heartbeat-style; task states are sent at once). */
const METRICS_INTERVAL_MS = 200;

/**
 * The tasks of one task thread: the main thread's ThreadedGateway calls arrive as messages and
 * go to one JobTaskExecutor per job; task states, checkpoint acknowledgements, counters and
 * collected records go back. Snapshots are written and read here, straight to the job's
 * checkpoint store, so the main thread never holds them.
 */
export class ThreadTaskHost {
  private readonly rpc: ThreadRpc<ToTaskThread>;
  private readonly jobs = new Map<string, HostedJob>();
  /** Unloads under way: a load of the same job (a worker deploying it again) waits for its end. */
  private readonly unloading = new Map<string, Promise<void>>();

  constructor(private readonly options: ThreadTaskHostOptions) {
    this.rpc = new ThreadRpc<ToTaskThread>(options.port, (m) => this.received(m));
  }

  private received(m: ToTaskThread): void {
    switch (m.t) {
      case 'load':
        return this.rpc.answer(m.id, () => this.load(m));
      case 'deploy':
        return this.rpc.answer(m.id, () => this.deploy(m));
      case 'unload':
        return this.rpc.answer(m.id, () => this.unload(m.jobId));
      case 'replay-status':
        return this.rpc.answer(m.id, () => this.jobs.get(m.jobId)?.executor.unreplayable() ?? []);
      case 'determinants':
        return this.rpc.answer(m.id, () => this.jobs.get(m.jobId)?.executor.determinantsOf(m.taskId) ?? []);
      case 'cancel': {
        // Answered once the tasks told to stop have stopped (and closed their functions).
        const runs = this.jobs.get(m.jobId)?.executor.cancel(m.which) ?? [];
        return this.rpc.answer(m.id, () => Promise.all(runs).then(() => undefined));
      }
      case 'trigger':
        return this.jobs.get(m.jobId)?.executor.triggerCheckpoint(m.checkpointId, m.timestamp, m.savepoint);
      case 'complete':
        return this.jobs.get(m.jobId)?.executor.notifyCheckpointComplete(m.checkpointId);
      case 'aborted':
        return this.jobs.get(m.jobId)?.executor.notifyCheckpointAborted(m.checkpointId);
      case 'rewire':
        return this.jobs.get(m.jobId)?.executor.rewire(m.restarted);
      case 'prepare-rescale':
        return this.rpc.answer(m.id, () => this.prepareRescale(m.jobId, m.preparation));
    }
  }

  private send(message: FromTaskThread): void {
    this.rpc.post(message);
  }

  private async load(m: Extract<ToTaskThread, { t: 'load' }>): Promise<void> {
    await this.unloading.get(m.jobId);
    if (this.jobs.has(m.jobId)) return;
    const { graph, plan } = await this.options.loadJob(m.source, m.name);
    if (plan.graphHash !== m.graphHash) {
      throw new MobiusError(
        'THREAD_GRAPH_MISMATCH',
        `job "${m.name}": importing ${m.source.file} in a task thread built another graph (hash ${plan.graphHash}, the job's is ${m.graphHash}); a job module run on task threads must build the same graph every time it is imported, and submit it first`,
      );
    }
    const store = m.checkpointDir === undefined ? undefined : this.options.checkpointStore(m.checkpointDir);
    const { transport, logger } = this.options;
    const endpoints = m.endpoints === undefined ? undefined : new Map(Object.entries(m.endpoints));
    const progressSlots = new Map<string, number>();
    const cells = this.options.progress;
    const executor = new JobTaskExecutor({
      jobId: m.jobId,
      plan,
      graph,
      services: {
        transport,
        endpointOf: endpoints === undefined ? undefined : (taskId) => endpoints.get(taskId)!,
        stateBackend: this.options.stateBackend(plan),
        logger,
        checkpoints:
          store === undefined
            ? undefined
            : storeCheckpointListener(m.jobId, store, {
                acknowledgeCheckpoint: (taskId, checkpointId, handle) => this.send({ t: 'ack', jobId: m.jobId, taskId, checkpointId, handle }),
                declineCheckpoint: (taskId, checkpointId, reason) => this.send({ t: 'decline', jobId: m.jobId, taskId, checkpointId, reason }),
              }),
        replay: this.options.replay ?? (store !== undefined && getConfig(plan.config, CoreOptions.FAILOVER_STRATEGY) === 'single-task'),
        // Another thread's receiver may be closed for a while (its task restarting): keep feeding the other channels.
        replayRunAhead: true,
      },
      onTaskStart: (task) => {
        // The main thread's heartbeat thread watches this task's loop through these cells (stall detection).
        const slot = progressSlots.get(task.id);
        if (cells !== undefined && slot !== undefined) attachTaskProgress(task, TaskProgress.inShared(cells, slot));
        return undefined;
      },
      report: (update) => {
        const { cause, ...rest } = update;
        this.send({ t: 'state', jobId: m.jobId, update: { ...rest, cause: cause === undefined ? undefined : errorInfo(cause) } });
      },
    });
    const unregisterCollect = this.options.registerCollect(m.jobId, plan, (message) => {
      const { batch, transfer } = encodeCollectBatch(message as Extract<ControlMessage, { type: 'collect' }>, this.options.collectCodec);
      return this.rpc.request<ControlMessage>({ t: 'collect', ...batch }, transfer);
    });
    const metricsTimer = setInterval(() => this.send({ t: 'metrics', jobId: m.jobId, tasks: executor.metrics() }), METRICS_INTERVAL_MS);
    metricsTimer.unref();
    this.jobs.set(m.jobId, { executor, endpoints, progressSlots, store, unregisterCollect, metricsTimer });
  }

  private async deploy(m: Extract<ToTaskThread, { t: 'deploy' }>): Promise<void> {
    const { request } = m;
    const job = this.jobs.get(request.jobId);
    if (job === undefined) throw new Error(`job ${request.jobId} is not loaded in this task thread`);
    const store = job.store;
    const restore = m.snapshots ?? (request.restore === undefined || store === undefined ? undefined : await readTaskSnapshots(store, request.restore.handles));
    await job.executor.retire(request.tasks.map((t) => t.taskId));
    if (m.progress !== undefined) for (const [taskId, slot] of Object.entries(m.progress)) job.progressSlots.set(taskId, slot);
    const { attempts, staleCheckpointsThrough, endpoints, overrides, rescaled } = request;
    job.executor.deploy(request.tasks, { attempts, restore, staleCheckpointsThrough, endpoints, overrides, rescaled });
  }

  private prepareRescale(jobId: string, preparation: RescalePreparation): void {
    const job = this.jobs.get(jobId);
    if (job === undefined) return; // no task of the job here: nothing to stop or rewire
    for (const [taskId, endpoint] of Object.entries(preparation.endpoints)) job.endpoints?.set(taskId, endpoint);
    job.executor.prepareRescale(preparation);
  }

  /** Cancels what still runs of the job here, waits for it, and forgets the job. */
  private unload(jobId: string): Promise<void> {
    let unloading = this.unloading.get(jobId);
    if (unloading === undefined) {
      unloading = this.drop(jobId).finally(() => this.unloading.delete(jobId));
      this.unloading.set(jobId, unloading);
    }
    return unloading;
  }

  private async drop(jobId: string): Promise<void> {
    const job = this.jobs.get(jobId);
    if (job === undefined) return;
    job.executor.cancel();
    await job.executor.idle();
    clearInterval(job.metricsTimer);
    this.send({ t: 'metrics', jobId, tasks: job.executor.metrics() });
    job.unregisterCollect?.();
    this.jobs.delete(jobId);
  }
}
