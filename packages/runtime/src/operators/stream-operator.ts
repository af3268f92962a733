import type { Collector, OutputTag, RichFunction, RuntimeContext } from '@mobius/interface';
import { ElementTime, type ProcessingTimeService } from '../element-time.js';
import type { KeyContext } from '../state/key-context.js';
import type { TimerService } from '../timers/timer-service.js';
import { discard, operatorFailure, type OperatorIdentity } from './operator.js';

/** Where an operator emits: records, and watermarks (a plain collector drops them). */
export interface OperatorOutput extends Collector<unknown> {
  emitWatermark?(watermark: number): void;
  /** The stream through this output is idle (see WatermarkOutput.markIdle); the next record or watermark makes it active. */
  markIdle?(): void;
}

const NO_SIDE_OUTPUTS: ReadonlyMap<string, OperatorOutput> = new Map();

/** A processing-time service for operators built outside a chain (unit tests): schedules nothing. */
const NO_PROCESSING_TIME: ProcessingTimeService = { now: () => Date.now(), scheduleAt: () => undefined };

/** The checkpoint hooks a rich function may have (CheckpointedFunction, TwoPhaseCommitSinkFunction). */
interface FunctionHooks {
  snapshotState?(checkpointId: number): unknown;
  restoreState?(state: unknown): unknown;
  notifyCheckpointComplete?(checkpointId: number): unknown;
  notifyCheckpointAborted?(checkpointId: number): unknown;
  finish?(): unknown;
}

/**
 * An operator of a chain, owning its lifecycle as Flink's StreamOperator does: `open`, then
 * records (`collect`, alias `processElement`) and watermarks (`processWatermark`), checkpoint
 * hooks (`snapshotState`, `restoreState`, `notifyCheckpointComplete`/`Aborted`), `finish` at the
 * end of input and `close`. The defaults hand each hook to the user's rich function, so a plain
 * operator only implements `collect`.
 *
 * `collect` is the hot path: a direct call per record, no promise, no allocation beyond what the
 * user's function makes.
 */
export abstract class StreamOperator<I = unknown> implements OperatorOutput {
  out: OperatorOutput = discard;
  /** The current key, on an operator of a keyed stream (set by the keyed wrapper before each record). */
  keys: KeyContext | undefined = undefined;
  /** This operator's timers (keyed operators that asked for them). */
  timers: TimerService | undefined = undefined;
  /** The last watermark this operator received (-Infinity: none yet). */
  currentWatermark = -Infinity;
  /** The event time of the current record, shared by the task's operators (set by the chain). */
  time: ElementTime = new ElementTime();
  /** Side outputs read downstream, by OutputTag id (set by the chain); a tag nobody reads drops its records. */
  sideOutputs: ReadonlyMap<string, OperatorOutput> = NO_SIDE_OUTPUTS;
  /** Processing-time callbacks (set by the chain). */
  processingTime: ProcessingTimeService = NO_PROCESSING_TIME;
  /** Records this operator dropped because they came too late (windows); the task reports the sum. */
  lateRecordsDropped = 0;

  constructor(
    readonly identity: OperatorIdentity,
    /** The user's rich function object, if it is one (for open/close and the checkpoint hooks). */
    readonly rich: RichFunction | undefined,
  ) {}

  abstract collect(record: I): void;

  /** Where this operator emits (the chain calls it once, when it wires the chain). */
  setOutput(out: OperatorOutput): void {
    this.out = out;
  }

  /** Where this operator's side outputs go, by OutputTag id (the chain calls it once, when it wires the chain). */
  setSideOutputs(outputs: ReadonlyMap<string, OperatorOutput>): void {
    this.sideOutputs = outputs;
  }

  processElement(record: I): void {
    this.collect(record);
  }

  /** Emits `value` to side output `tag` with the current record's timestamp (dropped when nothing reads the tag). */
  output<T>(tag: OutputTag<T> | string, value: T): void {
    this.sideOutputs.get(typeof tag === 'string' ? tag : tag.id)?.collect(value);
  }

  /** The input is idle: pass it on (an operator that makes its own watermarks overrides it). */
  markIdle(): void {
    this.out.markIdle?.();
  }

  async open(ctx: RuntimeContext): Promise<void> {
    try {
      await this.rich?.open?.(ctx);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  /**
   * The input watermark rose to `watermark`: event-time timers up to it fire (in key context),
   * then it goes downstream. Never called with a lower value than before.
   */
  processWatermark(watermark: number): void {
    if (watermark <= this.currentWatermark) return;
    this.currentWatermark = watermark;
    try {
      this.timers?.advanceWatermark(watermark);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
    this.out.emitWatermark?.(watermark);
  }

  emitWatermark(watermark: number): void {
    this.processWatermark(watermark);
  }

  /** A timer of this operator fired; the current key is the timer's. Operators with timers override it. */
  onTimer(_time: number, _domain: 'event' | 'processing'): void {}

  /** The operator's own state for checkpoint `checkpointId` (default: the rich function's `snapshotState`). */
  snapshotState(checkpointId: number): unknown {
    const fn = this.hooks();
    return typeof fn?.snapshotState === 'function' ? fn.snapshotState(checkpointId) : undefined;
  }

  /** Receives what `snapshotState` returned, after `open` (sinks recover here). */
  async restoreState(state: unknown): Promise<void> {
    const fn = this.hooks();
    if (typeof fn?.restoreState !== 'function') return;
    try {
      await fn.restoreState(state);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  /** True if `snapshotState` returns something worth recording. */
  get hasState(): boolean {
    return typeof this.hooks()?.snapshotState === 'function';
  }

  notifyCheckpointComplete(checkpointId: number): unknown {
    return this.hooks()?.notifyCheckpointComplete?.(checkpointId);
  }

  notifyCheckpointAborted(checkpointId: number): unknown {
    return this.hooks()?.notifyCheckpointAborted?.(checkpointId);
  }

  /** Called once the input has ended, before close: emit anything held back, commit what is left. */
  async finish(): Promise<void> {
    const fn = this.hooks();
    if (typeof fn?.finish !== 'function') return;
    try {
      await fn.finish();
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  async close(): Promise<void> {
    try {
      await this.rich?.close?.();
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  private hooks(): FunctionHooks | undefined {
    return this.rich as FunctionHooks | undefined;
  }
}

export function richOf(fn: unknown): RichFunction | undefined {
  return typeof fn === 'object' && fn !== null ? (fn as RichFunction) : undefined;
}
