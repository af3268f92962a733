import type { Barrier, CheckpointListener, Determinant, PlanChannel, SourceFunction, StateSnapshot, TaskSnapshot } from '@mobius/interface';
import type { DeterminantLog } from './failover/determinant-log.js';
import type { InputGate } from './input-gate.js';
import type { OperatorChain } from './operator-chain.js';
import type { OutputWriters } from './output/output-writers.js';
import type { TaskOutputs } from './output/task-outputs.js';
import { withTaskZeroBroadcastState } from './process/task-zero-broadcast.js';

/** What the checkpointer reads and restores of its task. */
export interface TaskCheckpointerInit {
  readonly taskId: string;
  readonly chain: OperatorChain;
  readonly gate: InputGate;
  /** The input channels in gate order (the task changes the array when channels are added). */
  readonly inputChannels: readonly PlanChannel[];
  readonly outputs: TaskOutputs;
  readonly writers: OutputWriters;
  readonly log: DeterminantLog | undefined;
  readonly listener: CheckpointListener | undefined;
  /** The source function of a source task. */
  readonly source: SourceFunction<unknown> | undefined;
  /** Awaits the async writes of the batch in progress. */
  settleWrites(): Promise<void>;
}

/**
 * The checkpoint work of one task (Flink's SubtaskCheckpointCoordinator): at a barrier, partial
 * batches go out, the barrier follows them on every output (so downstream tasks start aligning
 * at once), then the chain's state, timers and function states, the source offset, the input
 * watermark and the channel sequence numbers are snapshot and handed to the listener. On a
 * restore it puts all of these back.
 */
export class TaskCheckpointer {
  /** The source offset and function states of the snapshot this task restores from. */
  restoredSource: unknown = undefined;
  restoredFunctions: Readonly<Record<string, unknown>> | undefined = undefined;

  constructor(private readonly init: TaskCheckpointerInit) {}

  /**
   * The source's offset is read first, before anything awaits: a run() source that waited on its
   * own work when the barrier was taken (`parked`) may run on meanwhile (what it emits is held
   * until after the barrier). Then the value is also copied, as the source may change it.
   */
  async checkpoint(barrier: Barrier, parked = false): Promise<void> {
    const { outputs, listener, chain, gate, writers } = this.init;
    const source = this.sourceOffset(parked);
    outputs.flushAll();
    await this.init.settleWrites();
    outputs.barrierAll(barrier);
    if (listener === undefined) return;
    try {
      const operators: Record<string, StateSnapshot> = {};
      // A savepoint is self-contained: backends with incremental snapshots take a full one.
      const options = barrier.type === 'savepoint' ? { full: true } : undefined;
      for (const [opId, state] of chain.states) operators[opId] = await state.snapshot(barrier.checkpointId, options);
      const inputs: Record<string, number> = {};
      const channels = this.init.inputChannels;
      for (let i = 0; i < channels.length; i++) inputs[channels[i].id] = gate.lastSeq[i];
      const outs: Record<string, number> = {};
      for (let i = 0; i < writers.outputIds.length; i++) outs[writers.outputIds[i]] = outputs.channels[i].nextSeq;
      const writerPositions: Record<string, number> = {};
      for (const [edgeId, w] of writers.roundRobin) writerPositions[edgeId] = w.next;
      const timers = chain.snapshotTimers();
      const union = chain.snapshotUnions();
      const snapshot: TaskSnapshot = {
        taskId: this.init.taskId,
        checkpointId: barrier.checkpointId,
        operators,
        source: source.read(),
        functions: await chain.snapshotFunctions(barrier.checkpointId),
        inputs,
        outputs: outs,
        writers: writerPositions,
        determinants: this.init.log === undefined ? undefined : this.init.log.next - 1,
        ...(gate.watermark === -Infinity ? {} : { watermark: gate.watermark }),
        ...(timers === undefined ? {} : { timers }),
        ...(union === undefined ? {} : { union }),
      };
      listener.acknowledge(snapshot);
    } catch (e) {
      listener.decline(this.init.taskId, barrier.checkpointId, e instanceof Error ? e.message : String(e));
    }
  }

  /** The source's offset now (its error, if it threw, comes out of `read()` inside the snapshot's try). */
  private sourceOffset(copy: boolean): { read(): unknown } {
    const source = this.init.source;
    if (source?.snapshotState === undefined) return { read: () => undefined };
    try {
      const offset: unknown = source.snapshotState();
      const value = copy && typeof offset === 'object' && offset !== null ? structuredClone(offset) : offset;
      return { read: () => value };
    } catch (e) {
      return {
        read: () => {
          throw e;
        },
      };
    }
  }

  /** Restores state, timers, channel sequence numbers and the watermark; keeps the source offset and function states for later. */
  async restore(snapshots: readonly TaskSnapshot[] | undefined, staleThrough: number | undefined, determinants: readonly Determinant[] | undefined, rescaled = false): Promise<void> {
    const { gate, chain, log, outputs, writers } = this.init;
    if (staleThrough !== undefined) gate.skipCheckpointsThrough(staleThrough);
    if (snapshots === undefined || snapshots.length === 0) {
      log?.restore(-1, determinants);
      return;
    }
    for (const [opId, state] of chain.states) {
      const parts = snapshots.map((s) => s.operators[opId]).filter((p): p is StateSnapshot => p !== undefined);
      if (parts.length > 0) await state.restore(parts);
    }
    // Each task's latest snapshot (older ones are bases of incremental state): timers come from
    // all of them (after a rescale, this task's key groups come from several), the rest from its own.
    const latest = new Map<string, TaskSnapshot>();
    for (const s of snapshots) if ((latest.get(s.taskId)?.checkpointId ?? -Infinity) < s.checkpointId) latest.set(s.taskId, s);
    chain.restoreTimers([...latest.values()]);
    // Union list state: every task gets every old task's list (Flink's union redistribution).
    chain.restoreUnions([...latest.values()]);
    const own = latest.get(this.init.taskId);
    this.restoredFunctions = withTaskZeroBroadcastState(own?.functions, [...latest.values()]);
    // A new task of a rescaled vertex: its channels are new (sequence numbers from 0) and it
    // replays nothing; a snapshot of the same task id is of an old task, whose channels are gone.
    log?.restore(rescaled ? -1 : (own?.determinants ?? -1), rescaled ? undefined : determinants);
    if (own === undefined) return;
    gate.skipCheckpointsThrough(own.checkpointId);
    if (own.watermark !== undefined) gate.restoreWatermark(own.watermark);
    if (rescaled) return;
    for (const [edgeId, next] of Object.entries(own.writers ?? {})) {
      const w = writers.roundRobin.get(edgeId);
      if (w !== undefined) w.next = next;
    }
    for (let i = 0; i < writers.outputIds.length; i++) {
      const seq = own.outputs[writers.outputIds[i]];
      if (seq !== undefined) outputs.channels[i].nextSeq = seq;
    }
    const channels = this.init.inputChannels;
    for (let i = 0; i < channels.length; i++) {
      const seq = own.inputs[channels[i].id];
      if (seq !== undefined) gate.lastSeq[i] = seq;
    }
    this.restoredSource = own.source;
  }
}
