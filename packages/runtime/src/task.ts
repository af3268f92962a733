import {
  BackpressureError,
  type Barrier,
  type CheckpointListener,
  type StateSnapshot,
  type TaskSnapshot,
  TaskFailedError,
  type Collector,
  type Determinant,
  type ExecutionPlan,
  type KeySelector,
  type LogicalEdge,
  type LogicalGraph,
  type LogicalNode,
  type Logger,
  type PartitionFn,
  type PlanChannel,
  type PlanEdge,
  type PlanTask,
  type PlanVertex,
  type SourceFunction,
  type StateBackend,
  type TaskMetrics,
  type TaskStateBackend,
  type Transport,
} from '@mobius/interface';
import { DeterminantLog } from './failover/determinant-log.js';
import { ReplayBuffer } from './failover/replay-buffer.js';
import { InputGate } from './input-gate.js';
import { FanOut, callable, discard, instantiate, operatorFailure, type OperatorIdentity } from './operators/operator.js';
import { FilterOperator } from './operators/filter-operator.js';
import { FlatMapOperator } from './operators/flat-map-operator.js';
import { MapOperator } from './operators/map-operator.js';
import { KeyedFilterOperator, KeyedFlatMapOperator, KeyedMapOperator, KeyedSinkOperator } from './operators/keyed-operators.js';
import { ReduceOperator } from './operators/reduce-operator.js';
import { PendingWrites, SinkOperator } from './operators/sink-operator.js';
import { SourceOperator } from './operators/source-operator.js';
import type { StreamOperator } from './operators/stream-operator.js';
import { UnionOperator } from './operators/union-operator.js';
import { ChannelOutput } from './output/channel-output.js';
import { TaskOutputs } from './output/task-outputs.js';
import { BroadcastWriter, CustomWriter, KeyGroupWriter, RoundRobinWriter, SingleChannelWriter } from './output/writers.js';
import { TaskRuntimeContext } from './runtime-context.js';
import { KeyContext } from './state/key-context.js';
import { stateKeyGroupOf } from './state/operator-state.js';
import { StateAccess } from './state/state-access.js';
import { yieldToEventLoop } from './signal.js';
import { CollectionSource } from './sources/collection-source.js';
import { TextFileSource } from './sources/text-file-source.js';
import { TaskCancelledSignal, TaskSourceContext, type SourceHost } from './task-source-context.js';

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
}

export type TaskState = 'CREATED' | 'RUNNING' | 'FINISHED' | 'CANCELED' | 'FAILED';

const indexOfTask = (taskId: string): number => Number(taskId.slice(taskId.lastIndexOf('#') + 1));

/** The checkpoint hooks a rich function may have (CheckpointedFunction, TwoPhaseCommitSinkFunction). */
interface FunctionHooks {
  snapshotState?(checkpointId: number): unknown;
  restoreState?(state: unknown): unknown;
  notifyCheckpointComplete?(checkpointId: number): unknown;
  finish?(): unknown;
}

/** Optional hooks of a state backend (incremental snapshots need them). */
interface StateHooks extends TaskStateBackend {
  snapshot(checkpointId: number, options?: { full?: boolean }): Promise<StateSnapshot>;
  notifyCheckpointAborted?(checkpointId: number): void;
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
}

/** The user's rich function object of an operator, if it is one. */
function hooksOf(op: StreamOperator): FunctionHooks | undefined {
  return op.rich as FunctionHooks | undefined;
}

/**
 * One parallel instance of a chained vertex: an async loop that takes a frame from its input
 * gate, pushes its records through the operator chain with direct calls, and waits only
 * between frames (for input, for credit, or for an async sink's batch).
 */
export class Task implements SourceHost {
  readonly id: string;
  readonly vertex: PlanVertex;
  readonly planTask: PlanTask;
  state: TaskState = 'CREATED';
  recordsIn = 0;
  cancelled = false;

  private readonly operators: StreamOperator[] = [];
  private readonly head: StreamOperator;
  private readonly gate: InputGate;
  private readonly outputs = new TaskOutputs();
  private readonly pending = new PendingWrites();
  /** Operator id → its state (keyed operators). */
  private readonly states = new Map<string, TaskStateBackend>();
  /** Plan ids of the input channels (gate order) and of the output channels (outputs order). */
  private readonly inputIds: string[];
  private readonly outputIds: string[] = [];
  private readonly inputChannels: PlanChannel[];
  private readonly outputChannels: PlanChannel[] = [];
  /** taskId → current attempt, for channel ids. */
  private readonly attempts: Record<string, number>;
  /** Round-robin writers by plan edge id (their position is checkpointed). */
  private readonly roundRobin = new Map<string, RoundRobinWriter>();
  /** Determinant log (single-task failover, tasks with outputs). */
  private readonly log: DeterminantLog | undefined;
  /** Log the order of inputs: more than one input channel. */
  private readonly logOrder: boolean;
  private readonly replayBytes: number;
  /** Receivers opened for a task that already ended, draining a restarted upstream's replay. */
  private readonly drains: { close(): void }[] = [];
  /** A checkpoint a source task was asked to take at its next batch boundary. */
  private pendingBarrier: Barrier | null = null;
  private readonly sourceContext: TaskSourceContext | undefined;
  private readonly nodes: Map<string, LogicalNode>;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly maxQueuedFrames: number;
  private lingerTimer: NodeJS.Timeout | undefined;
  /** The source offset and function states of the snapshot this task restores from. */
  private restoredSource: unknown = undefined;
  private restoredFunctions: Readonly<Record<string, unknown>> | undefined = undefined;
  /** Records a run() source collected since it last yielded to the event loop. */
  private runCollects = 0;

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
    this.nodes = new Map(graph.nodes.map((n) => [n.id, n]));
    const headId = this.vertex.operatorIds[0];
    this.logger = services.logger.child({ jobId: deployment.jobId, taskId, vertex: this.vertex.name, attempt: deployment.attempt });
    this.batchSize = this.config(headId, 'runtime.batch.size');
    this.lingerMs = this.config(headId, 'runtime.linger.ms');
    this.attempts = {};
    for (const t of plan.tasks) this.attempts[t.id] = deployment.attempts?.[t.id] ?? deployment.attempt;
    this.attempts[taskId] = deployment.attempt;
    const replay = services.replay === true && (plan.config['checkpoint.interval.ms'] as number) > 0;
    this.replayBytes = replay ? (plan.config['failover.replay.max-bytes'] as number) : -1;

    // Inputs: one receiver per channel into this task, in a stable order.
    const inputs = plan.channels.filter((c) => c.targetTask === taskId).sort((a, b) => (a.id < b.id ? -1 : 1));
    this.inputChannels = inputs;
    this.inputIds = inputs.map((c) => c.id);
    this.gate = new InputGate(
      inputs.map((c) => services.transport.openReceiver(this.channelId(c), { credits: this.config(headId, 'runtime.channel.credits') })),
      { taskName: taskId, determinantEntries: replay ? Math.max(10_000, Math.floor(this.replayBytes / 64)) : undefined },
    );

    // Operators of the chain, then their outputs: chained operators and network writers.
    const byId = new Map<string, StreamOperator>();
    for (const opId of this.vertex.operatorIds) {
      const op = this.createOperator(this.nodes.get(opId)!, plan);
      byId.set(opId, op);
      this.operators.push(op);
    }
    for (const opId of this.vertex.operatorIds) {
      const outs: Collector<unknown>[] = [];
      for (const edge of plan.edges) {
        if (edge.sourceOperator !== opId) continue;
        outs.push(edge.chained ? byId.get(edge.targetOperator)! : this.createWriter(edge));
      }
      byId.get(opId)!.out = outs.length === 0 ? discard : outs.length === 1 ? outs[0] : new FanOut(outs);
    }
    this.head = this.operators[0];
    this.logOrder = replay && inputs.length > 1;
    if (replay && this.outputs.channels.length > 0) {
      this.log = new DeterminantLog(taskId);
      this.outputs.log = this.log;
    }
    this.maxQueuedFrames = 64 + 16 * this.outputs.channels.length * this.config(headId, 'runtime.channel.credits');
    this.sourceContext =
      this.head instanceof SourceOperator ? new TaskSourceContext(this, this.head, planTask.index, this.vertex.parallelism) : undefined;
  }

  /**
   * One transport carries the channels of many jobs, and of old and new attempts of restarted
   * tasks: channel ids are scoped by job and by the attempts of both ends.
   */
  private channelId(c: PlanChannel): string {
    return `${this.deployment.jobId}/${this.attempts[c.sourceTask]}.${this.attempts[c.targetTask]}/${c.id}`;
  }

  private config(opId: string, key: string): number {
    const value = this.nodes.get(opId)?.config[key] ?? this.deployment.plan.config[key];
    return value as number;
  }

  private identity(node: LogicalNode): OperatorIdentity {
    return { operatorId: node.id, operatorName: node.name, taskIndex: this.planTask.index };
  }

  private logicalEdge(edge: PlanEdge): LogicalEdge {
    return this.deployment.graph.edges.find((e) => e.source === edge.sourceOperator && e.target === edge.targetOperator)!;
  }

  private createOperator(node: LogicalNode, plan: ExecutionPlan): StreamOperator {
    const identity = this.identity(node);
    const fn = instantiate<unknown>(node.fn);
    if (node.kind === 'source') return new SourceOperator(identity, this.createSource(node));
    if (node.kind === 'union') return new UnionOperator(identity);
    const keyed = plan.operators.find((o) => o.id === node.id)?.keyed === true;
    if (!keyed) {
      // Operator state of an earlier attempt is restored before open(): the state must exist by then.
      if (this.deployment.restore?.some((s) => s.operators[node.id] !== undefined)) this.stateOf(node);
      switch (node.kind) {
        case 'map':
          return new MapOperator(identity, fn);
        case 'flatMap':
          return new FlatMapOperator(identity, fn);
        case 'filter':
          return new FilterOperator(identity, fn);
        case 'sink':
          return new SinkOperator(identity, fn, this.pending);
        case 'reduce':
          break; // the planner refuses a reduce without keyBy; fall through to the keyed path
      }
    }
    // A keyed operator sets the current key for its keyed state before each call of its function.
    const input = plan.edges.find((e) => e.targetOperator === node.id)!;
    const selector = this.logicalEdge(input).partition.keySelector as KeySelector<unknown>;
    const state = this.stateOf(node);
    const keys = new KeyContext(node.name);
    switch (node.kind) {
      case 'map':
        return new KeyedMapOperator(identity, fn, selector, keys);
      case 'flatMap':
        return new KeyedFlatMapOperator(identity, fn, selector, keys);
      case 'filter':
        return new KeyedFilterOperator(identity, fn, selector, keys);
      case 'sink':
        return new KeyedSinkOperator(identity, fn, this.pending, selector, keys);
      default:
        // reduce uses the same state backend as keyed state, under the reserved name 'reduce'.
        return new ReduceOperator(identity, fn, selector, state.keyed('reduce'), keys);
    }
  }

  /** The state of an operator in this task (keyed and operator state), created on first use. */
  private stateOf(node: LogicalNode): TaskStateBackend {
    let state = this.states.get(node.id);
    if (state === undefined) {
      const maxParallelism = this.deployment.plan.maxParallelism;
      state = this.services.stateBackend.create({
        jobId: this.deployment.jobId,
        operatorId: node.id,
        taskIndex: this.planTask.index,
        maxParallelism,
        keyGroups: this.planTask.keyGroups,
        keyGroupOf: stateKeyGroupOf(maxParallelism),
      });
      this.states.set(node.id, state);
    }
    return state;
  }

  private createSource(node: LogicalNode): SourceFunction<unknown> {
    const spec = node.source!;
    switch (spec.type) {
      case 'collection':
        return new CollectionSource(node.data ?? [], this.batchSize);
      case 'textFile':
        return new TextFileSource(spec.path, this.batchSize) as SourceFunction<unknown>;
      case 'function':
        return instantiate<SourceFunction<unknown>>(node.fn);
    }
  }

  private createWriter(edge: PlanEdge): Collector<unknown> {
    const { plan } = this.deployment;
    const credits = this.config(edge.targetOperator, 'runtime.channel.credits');
    const batchSize = this.config(edge.sourceOperator, 'runtime.batch.size');
    const channels = plan.channels
      .filter((c) => c.edgeId === edge.id && c.sourceTask === this.id)
      .sort((a, b) => indexOfTask(a.targetTask) - indexOfTask(b.targetTask))
      .map((c) => {
        this.outputIds.push(c.id);
        this.outputChannels.push(c);
        return this.outputs.add(
          new ChannelOutput(
            this.channelId(c),
            this.services.transport.openSender(this.channelId(c), this.services.endpointOf(c.targetTask), { credits }),
            batchSize,
            this.outputs,
            this.replayBytes < 0 ? null : new ReplayBuffer(this.replayBytes),
          ),
        );
      });
    const partition = this.logicalEdge(edge).partition;
    if (edge.partition === 'custom') {
      const target = this.nodes.get(edge.targetOperator)!;
      return new CustomWriter(channels, callable<PartitionFn<unknown>>(partition.partitioner, 'partition'), `operator "${target.name}" (${target.id})`);
    }
    if (channels.length === 1) return new SingleChannelWriter(channels[0]);
    switch (edge.partition) {
      case 'key':
        return new KeyGroupWriter(channels, partition.keySelector as KeySelector<unknown>, plan.maxParallelism);
      case 'broadcast':
        return new BroadcastWriter(channels);
      default: {
        const writer = new RoundRobinWriter(channels, this.planTask.index);
        this.roundRobin.set(edge.id, writer);
        return writer;
      }
    }
  }

  private contextFor(op: StreamOperator): TaskRuntimeContext {
    const node = this.nodes.get(op.identity.operatorId)!;
    return new TaskRuntimeContext({
      jobId: this.deployment.jobId,
      jobName: this.deployment.plan.jobName,
      operatorId: node.id,
      operatorName: node.name,
      taskIndex: this.planTask.index,
      parallelism: this.vertex.parallelism,
      attempt: this.deployment.attempt,
      maxParallelism: this.deployment.plan.maxParallelism,
      jobConfig: this.deployment.plan.config,
      operatorConfig: node.config,
      clock: this.log,
      state: new StateAccess({
        operatorId: node.id,
        operatorName: node.name,
        keys: op.keys,
        keyGroups: this.planTask.keyGroups,
        backend: () => this.stateOf(node),
        reserved: node.kind === 'reduce' ? ['reduce'] : [],
      }),
    });
  }

  /** Runs the task to its end. Resolves when finished or cancelled; rejects with a TaskFailedError. */
  async run(): Promise<void> {
    this.state = 'RUNNING';
    let closed = false;
    try {
      await this.restoreFrom(this.deployment.restore);
      // Downstream operators open first, so they are ready before anything is emitted.
      for (let i = this.operators.length - 1; i >= 0; i--) await this.operators[i].open(this.contextFor(this.operators[i]));
      await this.restoreFunctions();
      if (this.log !== undefined) this.log.active = true;
      if (this.sourceContext !== undefined) await this.runSource(this.sourceContext);
      else await this.runInputs();
      if (!this.cancelled) {
        for (const op of this.operators) await op.finish();
        await this.settleWrites();
        // End of input: functions with a finish() hook (two-phase-commit sinks) commit what is left.
        for (const op of this.operators) {
          const fn = hooksOf(op);
          if (typeof fn?.finish !== 'function') continue;
          try {
            await fn.finish();
          } catch (e) {
            throw operatorFailure(op.identity, e);
          }
        }
        this.clearLinger();
        this.outputs.endAll();
        await this.outputs.whenDrained();
        closed = true;
        for (const op of this.operators) await op.close();
      }
      this.state = this.cancelled ? 'CANCELED' : 'FINISHED';
    } catch (error) {
      // Errors while being cancelled belong to the cancel (e.g. writing to a channel whose
      // cancelled downstream task already closed it), as in Flink: the task ends CANCELED.
      if (this.cancelled) {
        this.state = 'CANCELED';
        return;
      }
      this.state = 'FAILED';
      const failure = operatorFailure(this.identity(this.nodes.get(this.head.identity.operatorId)!), error);
      this.logger.error({ err: failure, operator: failure.operatorName, taskIndex: failure.taskIndex }, 'task failed');
      throw failure;
    } finally {
      if (this.log !== undefined) this.log.active = false;
      this.clearLinger();
      // A finished task keeps its replay buffers until the job ends: a downstream task that
      // restarts later still needs what it sent (dispose() releases them).
      const retain = this.state === 'FINISHED' && this.replayBytes >= 0;
      if (!retain) this.outputs.stop();
      if (!closed) for (const op of this.operators) await op.close().catch(() => undefined);
      this.gate.close();
      if (!retain) this.outputs.closeAll();
      for (const s of this.states.values()) await s.close().catch(() => undefined);
      this.logger.debug({ state: this.state, recordsIn: this.recordsIn, recordsOut: this.outputs.recordsOut }, 'task ended');
    }
  }

  private async runInputs(): Promise<void> {
    const gate = this.gate;
    const head = this.head;
    const outputs = this.outputs;
    const pending = this.pending;
    const log = this.logOrder ? this.log : undefined;
    if (log?.replaying === true) await this.replayLoggedOrder(log);
    for (;;) {
      if (this.cancelled) return;
      const frame = gate.poll();
      if (frame === undefined) {
        if (gate.finished) return;
        // Nothing to read: send partial batches now rather than hold them.
        outputs.flushAll();
        await gate.whenReadable();
        continue;
      }
      if (frame.kind === 'barrier') {
        await this.checkpoint(frame.barrier!);
        continue;
      }
      if (frame.kind !== 'data') continue; // watermarks: a later protocol
      const records = frame.records!;
      // The choice of input is logged before the output that depends on it is produced.
      if (log !== undefined) log.order(gate.lastIndex, records.length);
      this.recordsIn += records.length;
      for (let i = 0; i < records.length; i++) head.collect(records[i]);
      if (pending.promises.length > 0) await this.settleWrites();
      if (outputs.blocked > 0) await outputs.whenRelieved();
    }
  }

  /**
   * A restarted task first takes its inputs in the order its determinant log names (records
   * from which channel, how many), so it regenerates exactly the output it sent before;
   * downstream tasks drop what they already have by sequence number.
   */
  private async replayLoggedOrder(log: DeterminantLog): Promise<void> {
    const gate = this.gate;
    const head = this.head;
    const started = Date.now();
    let replayed = 0;
    while (log.replaying) {
      if (this.cancelled) return;
      const next = log.nextOrder();
      if (next === undefined) throw log.stuck();
      const frame = gate.pollFrom(next.input, next.count);
      if (frame === undefined) {
        this.outputs.flushAll();
        await gate.whenReadable();
        continue;
      }
      if (frame.kind === 'barrier') {
        this.services.checkpoints?.decline(this.id, frame.barrier!.checkpointId, 'the task is replaying its determinant log after a recovery');
        continue;
      }
      if (frame.kind !== 'data') continue;
      const records = frame.records!;
      log.order(next.input, records.length);
      this.recordsIn += records.length;
      replayed += records.length;
      for (let i = 0; i < records.length; i++) head.collect(records[i]);
      if (this.pending.promises.length > 0) await this.settleWrites();
      if (this.outputs.blocked > 0) await this.outputs.whenRelieved();
    }
    this.logger.info({ records: replayed, ms: Date.now() - started }, 'replayed inputs in the logged order');
  }

  private async runSource(ctx: TaskSourceContext): Promise<void> {
    const source = (this.head as SourceOperator).source;
    try {
      await source.init?.(this.vertex.parallelism, this.planTask.index);
      if (this.restoredSource !== undefined) await source.restoreState?.(this.restoredSource);
      if (typeof source.run === 'function') {
        ctx.runMode = true;
        await source.run(ctx);
        return;
      }
      const outputs = this.outputs;
      while (!ctx.ended && !this.cancelled) {
        const before = this.recordsIn;
        const r = source.fetch!(ctx);
        if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
          this.armLinger();
          await r;
        } else {
          // A synchronous fetch that found nothing: the source is idle, so send partial batches
          // now rather than hold them until the batch fills.
          if (this.recordsIn === before) outputs.flushAll();
          // Let timers and I/O (and a cancel) in between batches of a synchronous source.
          await yieldToEventLoop();
        }
        if (this.pending.promises.length > 0) await this.settleWrites();
        if (this.pendingBarrier !== null) await this.checkpoint(this.takeBarrier());
        if (outputs.blocked > 0) await outputs.whenRelieved();
      }
    } catch (error) {
      // A cancelled source unwinds through collect(): that is the cancel, not a failure.
      if (error instanceof TaskCancelledSignal) throw error;
      throw operatorFailure(this.head.identity, error);
    }
  }

  afterRunCollect(): Promise<void> | undefined {
    const outputs = this.outputs;
    this.armLinger();
    // Wait for credit or for the sink's writes; and every batch, yield to the event loop even
    // when nothing blocks (a run() source awaiting only collect() would otherwise starve it).
    if (outputs.blocked > 0 || this.pending.promises.length >= this.batchSize || ++this.runCollects >= this.batchSize || this.pendingBarrier !== null) {
      if (outputs.overflowing(this.maxQueuedFrames)) {
        throw new BackpressureError(
          `source "${this.head.identity.operatorName}" task #${this.planTask.index} collected ${outputs.queuedFrames} frames beyond its channels' credit: a run() source must await the promise collect() returns`,
        );
      }
      const relief = this.relieve();
      // A source that does not await it must not turn a cancel into an unhandled rejection.
      relief.catch(() => undefined);
      return relief;
    }
    return undefined;
  }

  private async relieve(): Promise<void> {
    this.runCollects = 0;
    await this.settleWrites();
    if (this.pendingBarrier !== null) await this.checkpoint(this.takeBarrier());
    await this.outputs.whenRelieved();
    await yieldToEventLoop();
    if (this.cancelled) throw new TaskCancelledSignal();
  }

  private async settleWrites(): Promise<void> {
    while (this.pending.promises.length > 0) await Promise.all(this.pending.take());
  }

  private armLinger(): void {
    if (this.lingerTimer !== undefined || this.outputs.channels.length === 0) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      // A cancelled task sends nothing more (its channels may already be closed).
      if (this.outputs.stopped) return;
      // A send failing here must fail the task (through its loop), not the process.
      try {
        this.outputs.flushAll();
      } catch (e) {
        this.outputs.fail(e);
      }
    }, this.lingerMs);
  }

  private clearLinger(): void {
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  /**
   * Asks a source task to take checkpoint `checkpointId` at its next batch boundary: it records
   * its offset, sends the barrier on every output and snapshots its chain. A task that is not a
   * running source declines.
   */
  triggerCheckpoint(checkpointId: number, timestamp: number, type: Barrier['type'] = 'checkpoint'): void {
    if (this.sourceContext === undefined || this.state !== 'RUNNING' || this.sourceContext.ended) {
      this.services.checkpoints?.decline(this.id, checkpointId, this.sourceContext === undefined ? 'not a source task' : `task is ${this.state}`);
      return;
    }
    this.pendingBarrier = { checkpointId, timestamp, type };
  }

  private takeBarrier(): Barrier {
    const barrier = this.pendingBarrier!;
    this.pendingBarrier = null;
    return barrier;
  }

  /**
   * Takes this task's part of a checkpoint at a batch boundary: partial batches go out, the
   * barrier follows them on every output (so downstream tasks start aligning at once), then the
   * chain's state, the source offset and the channel sequence numbers are snapshot and handed
   * to the listener.
   */
  private async checkpoint(barrier: Barrier): Promise<void> {
    this.outputs.flushAll();
    await this.settleWrites();
    this.outputs.barrierAll(barrier);
    const listener = this.services.checkpoints;
    if (listener === undefined) return;
    try {
      const operators: Record<string, StateSnapshot> = {};
      // A savepoint is self-contained: backends with incremental snapshots take a full one.
      const options = barrier.type === 'savepoint' ? { full: true } : undefined;
      for (const [opId, state] of this.states) operators[opId] = await (state as StateHooks).snapshot(barrier.checkpointId, options);
      const inputs: Record<string, number> = {};
      for (let i = 0; i < this.inputIds.length; i++) inputs[this.inputIds[i]] = this.gate.lastSeq[i];
      const outputs: Record<string, number> = {};
      for (let i = 0; i < this.outputIds.length; i++) outputs[this.outputIds[i]] = this.outputs.channels[i].nextSeq;
      const source = this.head instanceof SourceOperator ? this.head.source.snapshotState?.() : undefined;
      const writers: Record<string, number> = {};
      for (const [edgeId, w] of this.roundRobin) writers[edgeId] = w.next;
      const determinants = this.log === undefined ? undefined : this.log.next - 1;
      const functions: Record<string, unknown> = {};
      for (const op of this.operators) {
        const fn = op instanceof SourceOperator ? undefined : hooksOf(op);
        if (typeof fn?.snapshotState === 'function') functions[op.identity.operatorId] = await fn.snapshotState(barrier.checkpointId);
      }
      listener.acknowledge({ taskId: this.id, checkpointId: barrier.checkpointId, operators, source, functions, inputs, outputs, writers, determinants });
    } catch (e) {
      listener.decline(this.id, barrier.checkpointId, e instanceof Error ? e.message : String(e));
    }
  }

  /** Restores state, channel sequence numbers and (after init, in runSource) the source offset. */
  private async restoreFrom(snapshots: readonly TaskSnapshot[] | undefined): Promise<void> {
    const stale = this.deployment.staleCheckpointsThrough;
    if (stale !== undefined) this.gate.skipCheckpointsThrough(stale);
    if (snapshots === undefined || snapshots.length === 0) {
      this.log?.restore(-1, this.deployment.determinants);
      return;
    }
    for (const [opId, state] of this.states) {
      const parts = snapshots.map((s) => s.operators[opId]).filter((p): p is StateSnapshot => p !== undefined);
      if (parts.length > 0) await state.restore(parts);
    }
    // The task's latest own snapshot (older ones are bases of incremental state).
    let own: TaskSnapshot | undefined;
    for (const s of snapshots) if (s.taskId === this.id && (own === undefined || s.checkpointId > own.checkpointId)) own = s;
    this.log?.restore(own?.determinants ?? -1, this.deployment.determinants);
    if (own === undefined) return;
    this.gate.skipCheckpointsThrough(own.checkpointId);
    for (const [edgeId, next] of Object.entries(own.writers ?? {})) {
      const w = this.roundRobin.get(edgeId);
      if (w !== undefined) w.next = next;
    }
    for (let i = 0; i < this.outputIds.length; i++) {
      const seq = own.outputs[this.outputIds[i]];
      if (seq !== undefined) this.outputs.channels[i].nextSeq = seq;
    }
    for (let i = 0; i < this.inputIds.length; i++) {
      const seq = own.inputs[this.inputIds[i]];
      if (seq !== undefined) this.gate.lastSeq[i] = seq;
    }
    this.restoredSource = own.source;
    this.restoredFunctions = own.functions;
  }

  /** Hands each function its state from the restored checkpoint (after open(): sinks recover here). */
  private async restoreFunctions(): Promise<void> {
    const states = this.restoredFunctions;
    if (states === undefined) return;
    for (const op of this.operators) {
      const state = states[op.identity.operatorId];
      const fn = hooksOf(op);
      if (state === undefined || op instanceof SourceOperator || typeof fn?.restoreState !== 'function') continue;
      try {
        await fn.restoreState(state);
      } catch (e) {
        throw operatorFailure(op.identity, e);
      }
    }
  }

  /** Checkpoint `checkpointId` will never complete: state backends must not build on it. */
  notifyCheckpointAborted(checkpointId: number): void {
    this.gate.skipCheckpointsThrough(checkpointId);
    for (const state of this.states.values()) (state as StateHooks).notifyCheckpointAborted?.(checkpointId);
  }

  /** Checkpoint `checkpointId` completed everywhere: functions commit (two-phase-commit sinks). */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    this.outputs.checkpointComplete(checkpointId);
    this.gate.checkpointComplete(checkpointId);
    for (const state of this.states.values()) {
      try {
        await (state as StateHooks).notifyCheckpointComplete?.(checkpointId);
      } catch (e) {
        this.logger.warn({ err: e, checkpointId }, 'state backend: completing a checkpoint failed');
      }
    }
    for (const op of this.operators) {
      const fn = hooksOf(op);
      if (typeof fn?.notifyCheckpointComplete !== 'function') continue;
      try {
        await fn.notifyCheckpointComplete(checkpointId);
      } catch (e) {
        this.logger.error({ err: e, operator: op.identity.operatorName, checkpointId }, 'commit after a completed checkpoint failed');
      }
    }
  }

  /**
   * Single-task failover: tasks of `restarted` run a new attempt at a new endpoint. Output
   * channels to them re-open there and replay what they sent since the last completed
   * checkpoint; input channels from them re-open under the new attempt (the restarted task
   * regenerates its output with the same sequence numbers, and what was read is dropped).
   * Works on a task that already ended, too. Returns the number of frames replayed.
   */
  rewire(restarted: Readonly<Record<string, { readonly attempt: number; readonly endpoint: string }>>, endpointOf: (taskId: string) => string): number {
    for (const [taskId, r] of Object.entries(restarted)) if (taskId !== this.id) this.attempts[taskId] = r.attempt;
    let replayed = 0;
    this.outputChannels.forEach((c, i) => {
      const target = restarted[c.targetTask];
      if (target === undefined || c.targetTask === this.id) return;
      const id = this.channelId(c);
      const credits = this.config(this.nodes.get(this.edgeOf(c).targetOperator)!.id, 'runtime.channel.credits');
      replayed += this.outputs.channels[i].rewire(this.services.transport.openSender(id, endpointOf(c.targetTask), { credits }), id);
    });
    const credits = this.config(this.vertex.operatorIds[0], 'runtime.channel.credits');
    this.inputChannels.forEach((c, i) => {
      if (restarted[c.sourceTask] === undefined || c.sourceTask === this.id) return;
      const receiver = this.services.transport.openReceiver(this.channelId(c), { credits });
      if (this.state === 'RUNNING' || this.state === 'CREATED') {
        this.gate.replaceReceiver(i, receiver);
        return;
      }
      // An ended task needs nothing more: take what arrives (so the sender is not stuck) and drop it.
      receiver.onReadable(() => {
        while (receiver.poll() !== undefined);
      });
      this.drains.push(receiver);
    });
    this.logger.info({ restarted: Object.keys(restarted), framesReplayed: replayed }, 'channels re-opened to restarted tasks');
    return replayed;
  }

  private edgeOf(c: PlanChannel): PlanEdge {
    return this.deployment.plan.edges.find((e) => e.id === c.edgeId)!;
  }

  /**
   * The determinant log this task holds of upstream task `taskId` (entries since the last
   * completed checkpoint), for its recovery: from now on, until rewire() re-opens them, the
   * channels from `taskId` are not read (a frame of the dead attempt read after this would
   * hold records whose determinants the new attempt does not get).
   */
  determinantsOf(taskId: string): readonly Determinant[] {
    const indexes: number[] = [];
    this.inputChannels.forEach((c, i) => {
      if (c.sourceTask === taskId) indexes.push(i);
    });
    this.gate.hold(indexes);
    return this.gate.determinantsOf(indexes);
  }

  /** Plan ids of this task's output channels that cannot replay (no buffer, or it dropped frames). */
  unreplayableOutputs(): string[] {
    const out: string[] = [];
    this.outputChannels.forEach((c, i) => {
      const replay = this.outputs.channels[i].replay;
      if (replay === null || !replay.replayable) out.push(c.id);
    });
    return out;
  }

  /** Releases what an ended task kept for replay (at the end of the job). */
  dispose(): void {
    this.outputs.stop();
    this.outputs.closeAll();
    for (const d of this.drains.splice(0)) d.close();
  }

  /** Stops the task: its loop returns at the next frame boundary. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.outputs.stop();
    this.gate.wake();
  }

  metrics(): TaskMetrics {
    return { taskId: this.id, vertexName: this.vertex.name, recordsIn: this.recordsIn, recordsOut: this.outputs.recordsOut, attempt: this.deployment.attempt };
  }
}
