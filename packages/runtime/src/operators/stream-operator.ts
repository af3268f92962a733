import type { Collector, RichFunction, RuntimeContext } from '@mobius/interface';
import type { KeyContext } from '../state/key-context.js';
import type { TimerService } from '../timers/timer-service.js';
import { discard, operatorFailure, type OperatorIdentity } from './operator.js';

/** Where an operator emits: records, and watermarks (a plain collector drops them). */
export interface OperatorOutput extends Collector<unknown> {
  emitWatermark?(watermark: number): void;
}

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

  processElement(record: I): void {
    this.collect(record);
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
