// Why this file is long (~450 lines): it is the StreamTask, the one place that wires a task's
// parts (chain, gate, outputs, checkpointer, loops, rewiring, reconfiguration, retirement, load)
// and keeps its life; each part lives in its own file, and what is here is mostly wiring and
// one-line entry points the task executor calls.
import {
  CoreOptions,
  MobiusError,
  TaskFailedError,
  getConfig,
  getOperatorConfig,
  type Barrier,
  type CheckpointListener,
  type ConfigOption,
  type Determinant,
  type ExecutionPlan,
  type LogicalGraph,
  type Logger,
  type PlanTask,
  type PlanVertex,
  type StateBackend,
  type TaskMetrics,
  type TaskSnapshot,
  type Transport,
} from '@mobius/interface';
import { ChannelIds } from './channel-ids.js';
import { ChannelReconfiguration, type ChannelChanges } from './channel-reconfiguration.js';
import { TaskRetirement } from './task-retirement.js';
import { DeterminantLog } from './failover/determinant-log.js';
import { InputGate } from './input-gate.js';
import { runInputs } from './input-loop.js';
import { OperatorChain } from './operator-chain.js';
import { operatorFailure } from './operators/operator.js';
import { PendingWrites } from './operators/sink-operator.js';
import { SourceOperator } from './operators/source-operator.js';
import { OutputWriters } from './output/output-writers.js';
import { TaskOutputs } from './output/task-outputs.js';
import { SourceLoop } from './source-loop.js';
import { TaskCheckpointer } from './task-checkpointer.js';
import { TaskLoopContext } from './task-loop-context.js';
import { TaskRewiring } from './task-rewiring.js';
import { TaskSourceContext, type SourceHost } from './task-source-context.js';

/** What to run: one task of a planned job. */
export interface TaskDeployment {
  readonly jobId: string;
  readonly plan: ExecutionPlan;
  /** The logical graph, for the user functions (taken by operator id). */
  readonly graph: LogicalGraph;
  readonly taskId: string;
  readonly attempt: number;
  /**
   * Snapshots to restore from, of the checkpoint the job restarts at: this task's own (for its
   * source offset and channel sequence numbers) and, for keyed state, every snapshot of the
   * same operators (each backend keeps only the key groups this task owns).
   */
  readonly restore?: readonly TaskSnapshot[];
  /** taskId → attempt of every task of the job (channel ids name both ends' attempts). Default: `attempt` for all. */
  readonly attempts?: Readonly<Record<string, number>>;
  /**
   * Single-task failover: this task's determinant log as a downstream task kept it. The task
   * replays its inputs in the logged order (from its restored position on) before running freely.
   */
  readonly determinants?: readonly Determinant[];
  /** Barriers of checkpoints up to this id are stale (aborted before this deployment). */
  readonly staleCheckpointsThrough?: number;
  /**
   * A new task of a rescaled vertex: `restore` holds the old tasks' snapshots at the rescale
   * checkpoint; it takes their state, timers and function state, but no channel positions.
   */
  readonly rescaled?: boolean;
}

/** What a task runs on. */
export interface TaskServices {
  readonly transport: Transport;
  /** The transport endpoint of the worker running a task. */
  endpointOf(taskId: string): string;
  readonly stateBackend: StateBackend;
  readonly logger: Logger;
  /** Receives this task's checkpoint snapshots. Without it, barriers pass through unrecorded. */
  readonly checkpoints?: CheckpointListener;
  /**
   * Single-task failover: output channels keep what they sent since the last completed
   * checkpoint (`failover.replay.max-bytes` each), and the task logs its determinants. Only
   * with checkpointing on. Default false (embedded mode restores globally and needs neither).
   */
  readonly replay?: boolean;
  /**
   * With replay: a channel whose downstream task is slow (or silently gone, as a killed worker
   * is on a network transport) keeps taking output beyond its credit, up to half its replay
   * buffer, so the task keeps feeding its other channels. Default true. A transport that reports
   * a closed receiver at once (in-process) sets it false: frames then queue beyond credit only
   * while the receiver is closed, and a barrier never waits behind megabytes of run-ahead.
   */
  readonly replayRunAhead?: boolean;
}

export type TaskState = 'CREATED' | 'RUNNING' | 'FINISHED' | 'CANCELED' | 'FAILED';

/**
 * One parallel instance of a chained vertex (Flink's StreamTask): it builds its operator chain
 * (through the operator registry), its input gate and output writers, then runs the source
 * loop or the input loop; checkpoints go to its checkpointer, recovery to its rewiring, channel
 * changes to its reconfiguration. This class only wires them and keeps the task's life.
 */
export class Task implements SourceHost {
  readonly id: string;
  readonly vertex: PlanVertex;
  readonly planTask: PlanTask;
  state: TaskState = 'CREATED';
  recordsIn = 0;
  cancelled = false;
  /** Set by `stopAt`: the checkpoint whose barrier retires this task (live rescaling). */
  private retirement: TaskRetirement | undefined;

  /** Retired at a rescale barrier that went out: the loops read no more input. */
  get stopping(): boolean {
    return this.retirement?.stopping === true;
  }

  private readonly chain: OperatorChain;
  private readonly gate: InputGate;
  private readonly outputs = new TaskOutputs();
  private readonly writers: OutputWriters;
  private readonly checkpointer: TaskCheckpointer;
  private readonly loop: TaskLoopContext;
  private readonly rewiring: TaskRewiring;
  private readonly reconfiguration: ChannelReconfiguration;
  private readonly log: DeterminantLog | undefined;
  private readonly replayBytes: number;
  private readonly sourceContext: TaskSourceContext | undefined;
  private readonly sourceLoop: SourceLoop | undefined;
  private readonly logger: Logger;
  private readonly pending = new PendingWrites();
  /** An async call failed outside the task's loop: the task stopped, and run() rejects with this. */
  private asyncFailure: TaskFailedError | undefined = undefined;

  constructor(
    private readonly deployment: TaskDeployment,
    private readonly services: TaskServices,
  ) {
    const { plan, graph, taskId } = deployment;
    this.id = taskId;
    const planTask = plan.tasks.find((t) => t.id === taskId);
    if (planTask === undefined) throw new TaskFailedError('?', '?', -1, new Error(`task ${taskId} is not in the plan`));
    this.planTask = planTask;
    this.vertex = plan.vertices.find((v) => v.id === planTask.vertexId)!;
    const headConfig = graph.nodes.find((n) => n.id === this.vertex.operatorIds[0])?.config ?? {};
    // Channel and batching options of the task are those of its head operator.
    const headOption = (o: ConfigOption<number>): number => getOperatorConfig(headConfig, plan.config, o);
    this.logger = services.logger.child({ jobId: deployment.jobId, taskId, vertex: this.vertex.name, attempt: deployment.attempt });
    const batchSize = headOption(CoreOptions.BATCH_SIZE);
    const inputCredits = headOption(CoreOptions.CHANNEL_CREDITS);
    const ids = new ChannelIds(deployment.jobId, plan.tasks.map((t) => t.id), deployment.attempt, deployment.attempts);
    ids.attempts[taskId] = deployment.attempt;
    const replay = services.replay === true && getConfig(plan.config, CoreOptions.CHECKPOINT_INTERVAL_MS) > 0;
    this.replayBytes = replay ? getConfig(plan.config, CoreOptions.FAILOVER_REPLAY_MAX_BYTES) : -1;

    // Inputs: one receiver per channel into this task, in a stable order.
    const inputChannels = plan.channels.filter((c) => c.targetTask === taskId).sort((a, b) => (a.id < b.id ? -1 : 1));
    this.gate = new InputGate(
      inputChannels.map((c) => services.transport.openReceiver(ids.idOf(c), { credits: inputCredits })),
      { taskName: taskId, determinantEntries: replay ? Math.max(10_000, Math.floor(this.replayBytes / 64)) : undefined },
    );
    this.writers = new OutputWriters({
      plan,
      graph,
      taskId,
      taskIndex: planTask.index,
      transport: services.transport,
      endpointOf: (t) => services.endpointOf(t),
      ids,
      outputs: this.outputs,
      replayBytes: this.replayBytes,
      replayRunAhead: services.replayRunAhead !== false,
    });
    const pending = this.pending;
    let loop: TaskLoopContext | undefined;
    const restoring = new Set<string>();
    for (const s of deployment.restore ?? []) for (const opId of Object.keys(s.operators)) restoring.add(opId);
    // Determinants are logged by tasks with outputs (their downstream tasks keep the log).
    if (replay && plan.channels.some((c) => c.sourceTask === taskId)) this.log = new DeterminantLog(taskId);
    this.chain = new OperatorChain({
      jobId: deployment.jobId,
      plan,
      graph,
      vertex: this.vertex,
      planTask,
      attempt: deployment.attempt,
      stateBackend: services.stateBackend,
      writers: this.writers,
      pending,
      batchSize,
      logger: this.logger,
      restoring,
      clock: this.log,
      processingTimerAt: (time) => loop?.processingTimerAt(time),
      time: this.outputs.time,
    });
    this.outputs.log = this.log;
    const source = this.chain.head instanceof SourceOperator ? this.chain.head.source : undefined;
    this.checkpointer = new TaskCheckpointer({
      taskId,
      chain: this.chain,
      gate: this.gate,
      inputChannels,
      outputs: this.outputs,
      writers: this.writers,
      log: this.log,
      listener: services.checkpoints,
      source,
      // Async calls in flight are drained before the barrier goes out: a snapshot never holds one.
      settleWrites: () => pending.settleAll(),
    });
    this.reconfiguration = new ChannelReconfiguration({
      plan,
      transport: services.transport,
      ids,
      gate: this.gate,
      inputChannels,
      inputCredits,
      outputs: this.outputs,
      writers: this.writers,
      chain: this.chain,
      logger: this.logger,
    });
    this.loop = loop = new TaskLoopContext({
      task: this,
      chain: this.chain,
      gate: this.gate,
      outputs: this.outputs,
      pending,
      checkpointer: this.checkpointer,
      loadWindowMs: getConfig(plan.config, CoreOptions.METRICS_LOAD_WINDOW_MS),
      logger: this.logger,
      // Input order, watermark rises and timer firings are logged where they could differ on a
      // replay: several inputs, or timers (windows, process functions) on one.
      orderLog: replay && (inputChannels.length > 1 || (inputChannels.length > 0 && this.chain.timers.size > 0)) ? this.log : undefined,
      lingerMs: headOption(CoreOptions.LINGER_MS),
      batchSize,
      maxQueuedFrames: 64 + 16 * this.outputs.channels.length * inputCredits,
      afterBarrier: (barrier: Barrier) => {
        this.reconfiguration.applyAt(barrier);
        this.retirement?.barrierPassed(barrier.checkpointId);
      },
      decline: (checkpointId, reason) => services.checkpoints?.decline(taskId, checkpointId, reason),
      failAsync: (error) => this.failFromAsync(operatorFailure(this.chain.head.identity, error)),
    });
    pending.onOutput = () => this.loop.armLinger();
    pending.onFailure = (failure) => this.failFromAsync(failure);
    this.rewiring = new TaskRewiring({
      taskId,
      transport: services.transport,
      ids,
      gate: this.gate,
      inputChannels,
      outputs: this.outputs,
      writers: this.writers,
      logger: this.logger,
      inputCredits,
      reading: () => this.state === 'RUNNING' || this.state === 'CREATED',
    });
    if (this.chain.head instanceof SourceOperator) {
      this.sourceContext = new TaskSourceContext(this, this.chain.head, planTask.index, this.vertex.parallelism);
      this.sourceLoop = new SourceLoop(this.loop, this.chain.head, () => this.checkpointer.restoredSource, this.vertex.parallelism, planTask.index);
    }
  }

  /** Runs the task to its end. Resolves when finished or cancelled; rejects with a TaskFailedError. */
  async run(): Promise<void> {
    this.state = 'RUNNING';
    let closed = false;
    const chain = this.chain;
    try {
      await this.checkpointer.restore(this.deployment.restore, this.deployment.staleCheckpointsThrough, this.deployment.determinants, this.deployment.rescaled === true);
      await chain.open();
      const functions = this.checkpointer.restoredFunctions;
      if (functions !== undefined) await chain.restoreFunctions(functions);
      if (this.log !== undefined) this.log.active = true;
      if (this.sourceLoop !== undefined) await this.sourceLoop.run(this.sourceContext!);
      else await runInputs(this.loop);
      if (this.asyncFailure !== undefined) throw this.asyncFailure;
      if (this.stopping && !this.cancelled) {
        // Retired by a live rescale at its barrier: no end of input (no final watermark, no
        // finish); what went out up to the barrier is delivered, then the task waits until that
        // checkpoint completes (its sinks commit it) or is aborted, and ends.
        await this.pending.settleAll();
        this.loop.stopTimers();
        this.outputs.flushAll();
        await this.outputs.whenDrained();
        await this.retirement!.settled;
        closed = true;
        await chain.close();
      } else if (!this.cancelled) {
        // End of input: async calls complete, every event-time timer fires (as if the watermark
        // reached +Infinity), then functions with a finish() hook (two-phase-commit sinks) commit what is left.
        await this.pending.settleAll();
        chain.endOfInputTimers();
        await this.pending.settleAll();
        await chain.finish(() => this.pending.settleAll());
        this.loop.stopTimers();
        this.outputs.endAll();
        await this.outputs.whenDrained();
        closed = true;
        await chain.close();
      }
      this.state = this.cancelled ? 'CANCELED' : 'FINISHED';
    } catch (error) {
      // Errors while being cancelled belong to the cancel (e.g. writing to a channel whose
      // cancelled downstream task already closed it), as in Flink: the task ends CANCELED.
      if (this.cancelled && this.asyncFailure === undefined) {
        this.state = 'CANCELED';
        return;
      }
      this.state = 'FAILED';
      const failure = this.asyncFailure ?? operatorFailure(chain.head.identity, error);
      this.logger.error({ err: failure, operator: failure.operatorName, taskIndex: failure.taskIndex }, 'task failed');
      throw failure;
    } finally {
      if (this.log !== undefined) this.log.active = false;
      this.loop.stopTimers();
      // A finished task keeps its replay buffers until the job ends: a downstream task that
      // restarts later still needs what it sent (dispose() releases them).
      const retain = this.state === 'FINISHED' && this.replayBytes >= 0;
      if (!retain) this.outputs.stop();
      if (!closed) await chain.closeQuietly();
      this.gate.close();
      if (!retain) {
        this.outputs.closeAll();
        this.reconfiguration.closeRetired();
      }
      await chain.closeStates();
      this.logger.debug({ state: this.state, recordsIn: this.recordsIn, recordsOut: this.outputs.recordsOut }, 'task ended');
    }
  }

  afterRunCollect(): Promise<void> | undefined {
    return this.sourceLoop!.afterRunCollect();
  }

  /**
   * Asks a source task to take checkpoint `checkpointId` at its next batch boundary (a `run()`
   * source: at its next collect, or at once while it waits on its own work): it records its
   * offset, sends the barrier on every output and snapshots its chain. A task that is not a
   * running source declines.
   */
  triggerCheckpoint(checkpointId: number, timestamp: number, type: Barrier['type'] = 'checkpoint'): void {
    if (this.sourceContext === undefined || this.state !== 'RUNNING' || this.sourceContext.ended) {
      this.services.checkpoints?.decline(this.id, checkpointId, this.sourceContext === undefined ? 'not a source task' : `task is ${this.state}`);
      return;
    }
    this.loop.pendingBarrier = { checkpointId, timestamp, type };
    this.sourceLoop!.barrierPending();
  }

  /** Checkpoint `checkpointId` will never complete: state backends must not build on it. */
  notifyCheckpointAborted(checkpointId: number): void {
    this.gate.skipCheckpointsThrough(checkpointId);
    this.chain.notifyCheckpointAborted(checkpointId);
    this.retirement?.checkpointEnded(checkpointId);
  }

  /** Checkpoint `checkpointId` completed everywhere: functions commit (two-phase-commit sinks). */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    this.outputs.checkpointComplete(checkpointId);
    this.gate.checkpointComplete(checkpointId);
    await this.chain.notifyCheckpointComplete(checkpointId);
    this.retirement?.checkpointEnded(checkpointId);
  }

  /**
   * Retires this task at the barrier of checkpoint `checkpointId` (live rescaling: a new set of
   * tasks of its vertex takes over its key groups from that snapshot). After its snapshot there
   * it reads no more input and emits nothing more, and `run()` resolves (state FINISHED) once that
   * checkpoint completed (after its functions committed it) or was aborted. Only tasks with
   * inputs: a source task is refused.
   */
  stopAt(checkpointId: number): void {
    if (this.sourceContext !== undefined) {
      throw new MobiusError('RESCALE_UNSUPPORTED', `task ${this.id} is a source: sources cannot be retired by a rescale yet`);
    }
    this.retirement = new TaskRetirement(checkpointId);
  }

  /**
   * Changes this task's channels at the barrier of checkpoint `atCheckpointId`, right after its
   * snapshot: inputs and outputs are added or removed there (live rescaling). See {@link ChannelChanges}.
   */
  reconfigure(atCheckpointId: number, changes: ChannelChanges): void {
    this.reconfiguration.schedule(atCheckpointId, changes);
  }

  /**
   * Single-task failover: tasks of `restarted` run a new attempt at a new endpoint (see
   * TaskRewiring). Works on a task that already ended, too. Returns the number of frames replayed.
   */
  rewire(restarted: Readonly<Record<string, { readonly attempt: number; readonly endpoint: string }>>, endpointOf: (taskId: string) => string): number {
    return this.rewiring.rewire(restarted, endpointOf);
  }

  /** The determinant log this task holds of upstream task `taskId` (see TaskRewiring). */
  determinantsOf(taskId: string): readonly Determinant[] {
    return this.rewiring.determinantsOf(taskId);
  }

  /** Plan ids of this task's output channels that cannot replay (no buffer, or it dropped frames). */
  unreplayableOutputs(): string[] {
    return this.rewiring.unreplayableOutputs();
  }

  /** The task's input watermark (-Infinity: none yet). */
  get watermark(): number {
    return this.gate.watermark;
  }

  /** Releases what an ended task kept for replay (at the end of the job). */
  dispose(): void {
    this.outputs.stop();
    this.outputs.closeAll();
    this.reconfiguration.closeRetired();
    this.rewiring.closeDrains();
  }

  /** Stops the task: its loop returns at the next frame boundary. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.retirement?.cancelled();
    this.outputs.stop();
    this.pending.abort();
    this.gate.wake();
  }

  /** An async call failed while the loop waited elsewhere (for input): the task stops now and fails with it. */
  private failFromAsync(failure: TaskFailedError): void {
    if (this.cancelled || this.state !== 'RUNNING') return;
    this.asyncFailure = failure;
    this.cancel();
  }

  metrics(): TaskMetrics {
    return {
      taskId: this.id,
      vertexName: this.vertex.name,
      recordsIn: this.recordsIn,
      recordsOut: this.outputs.recordsOut,
      attempt: this.deployment.attempt,
      ...this.chain.eventTimeMetrics(),
      ...(this.state === 'RUNNING' ? this.loop.load.read() : {}), // an ended task would read as idle
    };
  }
}
