import type { ExecutionPlan, KeySelector, LogicalGraph, LogicalNode, Logger, PlanTask, PlanVertex, StateBackend, TaskSnapshot, TaskStateBackend, TimerEntry } from '@mobius/interface';
import { FanOut, discard, instantiate, operatorFailure, type OperatorIdentity } from './operators/operator.js';
import { operatorFactory, type OperatorFactoryContext } from './operators/operator-registry.js';
import { BUILTIN_OPERATORS } from './operators/builtin-operators.js';
import { KeyedOperator } from './operators/keyed-operator.js';
import type { PendingWrites } from './operators/sink-operator.js';
import type { OperatorOutput, StreamOperator } from './operators/stream-operator.js';
import type { OutputWriters } from './output/output-writers.js';
import { TaskRuntimeContext } from './runtime-context.js';
import { KeyContext } from './state/key-context.js';
import { stateKeyGroupOf } from './state/operator-state.js';
import { StateAccess } from './state/state-access.js';
import { HeapTimerService } from './timers/heap-timer-service.js';
import { StateTimerService } from './timers/state-timer-service.js';
import type { TimerService } from './timers/timer-service.js';
import { ElementTime, type ProcessingTimeService } from './element-time.js';
import { ProcessingCallbacks } from './timers/processing-callbacks.js';
import { indexOfTask } from './task-ids.js';

/** What a chain is built from. */
export interface OperatorChainInit {
  readonly jobId: string;
  readonly plan: ExecutionPlan;
  readonly graph: LogicalGraph;
  readonly vertex: PlanVertex;
  readonly planTask: PlanTask;
  readonly attempt: number;
  readonly stateBackend: StateBackend;
  readonly writers: OutputWriters;
  readonly pending: PendingWrites;
  readonly batchSize: number;
  readonly logger: Logger;
  /** Operator ids with state in the snapshots the task restores from (their state must exist before open). */
  readonly restoring: ReadonlySet<string>;
  /** Where ctx.now() and ctx.random() come from (the determinant log), if logged. */
  readonly clock?: { now(): number; random(): number };
  /** A processing-time timer is due at `time`: the task wakes its loop then. */
  processingTimerAt(time: number): void;
  /** The task's element time (its network writers read it); default: the chain's own. */
  readonly time?: ElementTime;
}

function fanOut(outs: OperatorOutput[]): OperatorOutput {
  return outs.length === 0 ? discard : outs.length === 1 ? outs[0] : new FanOut(outs);
}

/**
 * The operators of one task (Flink's OperatorChain): built through the operator registry, one
 * per logical node of the vertex, wired with direct calls (chained edges) and network writers
 * (the others). Keyed operators are wrapped so the current key is set before each record; the
 * chain holds their state backends and timer services for the checkpointer.
 */
export class OperatorChain {
  readonly operators: StreamOperator[] = [];
  readonly head: StreamOperator;
  /** Operator id → its state (keyed and operator state). */
  readonly states = new Map<string, TaskStateBackend>();
  /** Operator id → its timers (keyed operators that asked for them). */
  readonly timers = new Map<string, TimerService>();
  /** The event time of the record being handed through the chain, shared by every operator. */
  readonly time: ElementTime;
  /** Processing-time callbacks of operators that are not keyed (periodic watermarks). */
  readonly callbacks: ProcessingCallbacks;
  private readonly nodes: Map<string, LogicalNode>;
  private readonly byId = new Map<string, StreamOperator>();

  constructor(private readonly init: OperatorChainInit) {
    void BUILTIN_OPERATORS; // the built-in kinds register themselves when their modules load
    this.time = init.time ?? new ElementTime();
    this.callbacks = new ProcessingCallbacks((time) => init.processingTimerAt(time));
    this.nodes = new Map(init.graph.nodes.map((n) => [n.id, n]));
    for (const opId of init.vertex.operatorIds) {
      const op = this.createOperator(this.nodes.get(opId)!);
      this.byId.set(opId, op);
      this.operators.push(op);
    }
    for (const opId of init.vertex.operatorIds) this.wire(opId);
    this.head = this.operators[0];
  }

  identity(node: LogicalNode): OperatorIdentity {
    return { operatorId: node.id, operatorName: node.name, taskIndex: this.init.planTask.index };
  }

  private createOperator(node: LogicalNode): StreamOperator {
    const { plan } = this.init;
    const keyed = node.kind !== 'source' && node.kind !== 'union' && plan.operators.find((o) => o.id === node.id)?.keyed === true;
    // Operator state of an earlier attempt is restored before open(): the state must exist by then.
    if (this.init.restoring.has(node.id)) this.stateOf(node);
    const keys = keyed ? new KeyContext(node.name) : undefined;
    const ctx: OperatorFactoryContext = {
      node,
      identity: this.identity(node),
      fn: instantiate<unknown>(node.fn),
      keyed,
      keys,
      state: () => this.stateOf(node),
      timers: () => this.timersOf(node, keys),
      pending: this.init.pending,
      jobConfig: plan.config,
      logsDeterminants: this.init.clock !== undefined,
      batchSize: this.init.batchSize,
    };
    const op = operatorFactory(node.kind)(ctx);
    op.time = this.time;
    op.processingTime = this.processingTime;
    if (!keyed) return op;
    const input = plan.edges.find((e) => e.targetOperator === node.id && e.partition === 'key')!;
    const selector = this.init.writers.logicalEdge(input).partition.keySelector as KeySelector<unknown>;
    const wrapped = new KeyedOperator(op, selector, keys!);
    const timers = this.timers.get(node.id);
    if (timers !== undefined) timers.target = op;
    return wrapped;
  }

  /** The state of an operator in this task (keyed and operator state), created on first use. */
  stateOf(node: LogicalNode): TaskStateBackend {
    let state = this.states.get(node.id);
    if (state === undefined) {
      const { plan, planTask, jobId } = this.init;
      state = this.init.stateBackend.create({
        jobId,
        operatorId: node.id,
        taskIndex: planTask.index,
        maxParallelism: plan.maxParallelism,
        keyGroups: planTask.keyGroups,
        keyGroupOf: stateKeyGroupOf(plan.maxParallelism),
      });
      this.states.set(node.id, state);
    }
    return state;
  }

  private timersOf(node: LogicalNode, keys: KeyContext | undefined): TimerService {
    let timers = this.timers.get(node.id);
    if (timers === undefined) {
      if (keys === undefined) throw operatorFailure(this.identity(node), new Error('timers need a keyed stream (keyBy)'));
      const keyGroupOf = stateKeyGroupOf(this.init.plan.maxParallelism);
      const state = this.stateOf(node);
      timers = state.timersInState === true ? new StateTimerService(keys, keyGroupOf, this.init.planTask.keyGroups, state) : new HeapTimerService(keys, keyGroupOf);
      timers.onProcessingTimer = (time) => this.init.processingTimerAt(time);
      this.timers.set(node.id, timers);
    }
    return timers;
  }

  /** A processing-time service on the task's loop (wall clock; callbacks never run during a record). */
  private readonly processingTime: ProcessingTimeService = {
    now: () => Date.now(),
    scheduleAt: (time, callback) => this.callbacks.scheduleAt(time, callback),
  };

  /**
   * Sets the outputs of operator `opId`: the chained operators and network writers of its
   * out-edges, the main output's and each side output's (by tag id).
   */
  wire(opId: string): void {
    const main: OperatorOutput[] = [];
    const sides = new Map<string, OperatorOutput[]>();
    for (const edge of this.init.plan.edges) {
      if (edge.sourceOperator !== opId) continue;
      const out = edge.chained ? this.byId.get(edge.targetOperator)! : (this.init.writers.byEdge.get(edge.id) ?? this.init.writers.create(edge));
      if (edge.sideOutput === undefined) main.push(out);
      else sides.set(edge.sideOutput, [...(sides.get(edge.sideOutput) ?? []), out]);
    }
    const op = this.byId.get(opId)!;
    op.setOutput(fanOut(main));
    if (sides.size > 0) {
      op.setSideOutputs(new Map([...sides].map(([tag, outs]) => [tag, fanOut(outs)])));
    }
  }

  /** Event-time figures of the task for its metrics: its watermark, late records dropped, timers pending. */
  eventTimeMetrics(): { currentWatermark?: number; lateRecordsDropped?: number; timersPending?: number } {
    let watermark = -Infinity;
    let late = 0;
    for (const wrapped of this.operators) {
      const op = wrapped instanceof KeyedOperator ? wrapped.inner : wrapped;
      if (op.currentWatermark > watermark) watermark = op.currentWatermark;
      late += op.lateRecordsDropped;
    }
    let timers = 0;
    for (const t of this.timers.values()) timers += t.size;
    return {
      ...(watermark === -Infinity ? {} : { currentWatermark: watermark }),
      ...(late > 0 ? { lateRecordsDropped: late } : {}),
      ...(this.timers.size > 0 ? { timersPending: timers } : {}),
    };
  }

  /** Opens the operators, downstream first, so they are ready before anything is emitted. */
  async open(): Promise<void> {
    for (let i = this.operators.length - 1; i >= 0; i--) await this.operators[i].open(this.contextFor(this.operators[i]));
  }

  private contextFor(op: StreamOperator): TaskRuntimeContext {
    const node = this.nodes.get(op.identity.operatorId)!;
    const { plan, planTask, vertex } = this.init;
    return new TaskRuntimeContext({
      jobId: this.init.jobId,
      jobName: plan.jobName,
      operatorId: node.id,
      operatorName: node.name,
      taskIndex: planTask.index,
      parallelism: vertex.parallelism,
      attempt: this.init.attempt,
      maxParallelism: plan.maxParallelism,
      jobConfig: plan.config,
      operatorConfig: node.config,
      clock: this.init.clock,
      state: new StateAccess({
        operatorId: node.id,
        operatorName: node.name,
        keys: op.keys,
        keyGroups: planTask.keyGroups,
        backend: () => this.stateOf(node),
        reserved: node.kind === 'reduce' ? ['reduce'] : [],
        union: (name) => this.unionList(node.id, name),
      }),
    });
  }

  /** The input watermark rose: each operator fires its event-time timers, then forwards it. */
  processWatermark(watermark: number): void {
    this.time.timestamp = NaN;
    this.head.processWatermark(watermark);
  }

  /** Fires the processing-time timers and callbacks due at `now`, in every operator. */
  fireProcessingTimers(now: number): void {
    this.time.timestamp = NaN;
    this.callbacks.fire(now);
    for (const [opId, t] of this.timers) {
      try {
        t.fireProcessingTimers(now);
      } catch (e) {
        throw operatorFailure(this.identity(this.nodes.get(opId)!), e);
      }
    }
  }

  /**
   * End of input (a bounded source ended, or every input of the task did): the watermark
   * +Infinity goes through the chain, so every event-time timer and window fires and downstream
   * tasks get it too; then the processing-time timers still pending fire (a bounded job's
   * processing-time windows emit what they hold rather than drop it).
   */
  endOfInputTimers(): void {
    this.time.timestamp = NaN;
    this.head.processWatermark(Infinity);
    this.fireProcessingTimers(Infinity);
  }

  /** Operator id → state name → the task's union list (`getUnionOperatorState`). */
  private readonly unions = new Map<string, Map<string, unknown[]>>();

  private unionList(operatorId: string, name: string): unknown[] {
    let lists = this.unions.get(operatorId);
    if (lists === undefined) this.unions.set(operatorId, (lists = new Map()));
    let list = lists.get(name);
    if (list === undefined) lists.set(name, (list = []));
    return list;
  }

  /** Restores union list state: every list is the union of the snapshots' lists of the same operator and name (in task order). */
  restoreUnions(snapshots: readonly TaskSnapshot[]): void {
    const ordered = [...snapshots].sort((a, b) => indexOfTask(a.taskId) - indexOfTask(b.taskId));
    for (const s of ordered) {
      for (const [opId, lists] of Object.entries(s.union ?? {})) {
        if (!this.nodes.has(opId)) continue;
        for (const [name, list] of Object.entries(lists)) this.unionList(opId, name).push(...list);
      }
    }
  }

  /** Every operator's union lists (copies), or undefined when none has any. */
  snapshotUnions(): Record<string, Record<string, unknown[]>> | undefined {
    if (this.unions.size === 0) return undefined;
    const out: Record<string, Record<string, unknown[]>> = {};
    for (const [opId, lists] of this.unions) out[opId] = Object.fromEntries([...lists].map(([name, list]) => [name, list.slice()]));
    return out;
  }

  /** What each operator's `snapshotState` returned (rich functions' state, e.g. a sink's pre-committed files). */
  async snapshotFunctions(checkpointId: number): Promise<Record<string, unknown>> {
    const functions: Record<string, unknown> = {};
    for (const op of this.operators) if (op.hasState) functions[op.identity.operatorId] = await op.snapshotState(checkpointId);
    return functions;
  }

  /** Every operator's timers, or undefined when no operator has any. */
  snapshotTimers(): Record<string, TimerEntry[]> | undefined {
    if (this.timers.size === 0) return undefined;
    const out: Record<string, TimerEntry[]> = {};
    for (const [opId, t] of this.timers) out[opId] = t.snapshot();
    return out;
  }

  /** Restores timers from every snapshot (each keeps the key groups this task owns). */
  restoreTimers(snapshots: readonly TaskSnapshot[]): void {
    for (const [opId, t] of this.timers) for (const s of snapshots) t.restore(s.timers?.[opId] ?? [], this.init.planTask.keyGroups);
  }

  /** Hands each operator its state from the restored checkpoint (after open: sinks recover here). */
  async restoreFunctions(states: Readonly<Record<string, unknown>>): Promise<void> {
    for (const op of this.operators) {
      const state = states[op.identity.operatorId];
      if (state !== undefined) await op.restoreState(state);
    }
  }

  /** Checkpoint `checkpointId` completed everywhere: backends drop old data, functions commit. */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    for (const state of this.states.values()) {
      try {
        await state.notifyCheckpointComplete?.(checkpointId);
      } catch (e) {
        this.init.logger.warn({ err: e, checkpointId }, 'state backend: completing a checkpoint failed');
      }
    }
    for (const op of this.operators) {
      try {
        await op.notifyCheckpointComplete(checkpointId);
      } catch (e) {
        this.init.logger.error({ err: e, operator: op.identity.operatorName, checkpointId }, 'commit after a completed checkpoint failed');
      }
    }
  }

  /** Checkpoint `checkpointId` will never complete: backends must not build on it; functions may drop what they staged for it. */
  notifyCheckpointAborted(checkpointId: number): void {
    for (const state of this.states.values()) state.notifyCheckpointAborted?.(checkpointId);
    for (const op of this.operators) {
      // A function's abort hook is advisory (the next checkpoint supersedes it): its failure is logged, not fatal.
      Promise.resolve()
        .then(() => op.notifyCheckpointAborted(checkpointId))
        .catch((e: unknown) => this.init.logger.warn({ err: e, operator: op.identity.operatorName, checkpointId }, 'abort hook failed'));
    }
  }

  /** End of input: each operator in chain order finishes; `settle` awaits the writes it caused before the next one commits. */
  async finish(settle: () => Promise<void>): Promise<void> {
    for (const op of this.operators) {
      await op.finish();
      await settle();
    }
  }

  async close(): Promise<void> {
    for (const op of this.operators) await op.close();
  }

  /** Closes the operators after a failure or a cancel (their errors belong to it). */
  async closeQuietly(): Promise<void> {
    for (const op of this.operators) await op.close().catch(() => undefined);
  }

  async closeStates(): Promise<void> {
    for (const s of this.states.values()) await s.close().catch(() => undefined);
  }
}
