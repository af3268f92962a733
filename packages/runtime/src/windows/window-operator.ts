import { MobiusError, PlanError, type Collector, type KeyedStore, type OutputTag, type StateKey } from '@mobius/interface';
import {
  GlobalWindow,
  MergingWindowSet,
  TimeWindow,
  isFire,
  isMergingAssigner,
  isPurge,
  type MergingWindowAssigner,
  type MergingWindowSetState,
  type ProcessWindowContext,
  type ProcessWindowFunction,
  type Trigger,
  type Window,
  type WindowAssigner,
  type WindowAssignerContext,
  type WindowFunction,
  type WindowSpec,
} from '@mobius/windowing';
import type { KeyContext } from '../state/key-context.js';
import type { TimeDomain } from '../timers/timer-service.js';
import { operatorFailure, instantiate, type OperatorIdentity } from '../operators/operator.js';
import { registerOperator, type OperatorFactoryContext } from '../operators/operator-registry.js';
import { StreamOperator, richOf } from '../operators/stream-operator.js';
import { WindowContents } from './window-contents.js';
import { WindowTriggerContext } from './window-trigger-context.js';

/** Store names of the window operator's keyed state (checkpointed and rescaled by key group). */
export const WINDOW_STORES = ['window-contents', 'window-timers', 'window-trigger', 'window-sessions'] as const;

/** The key a user function sees: a normalised object key is turned back into an object. */
function userKey(key: StateKey): unknown {
  return typeof key === 'string' && key.startsWith('\u0000') ? JSON.parse(key.slice(1)) : key;
}

/**
 * Flink's WindowOperator (without evictors): assigns each record to windows by its timestamp,
 * folds it into their contents, asks the trigger, and fires windows on the trigger's decision
 * (on a record or a timer). A window is late once `maxTimestamp + allowedLateness <= watermark`:
 * a record whose every window is late goes to the late side output, or is dropped and counted.
 * A window's state is cleaned at `maxTimestamp + allowedLateness` (event time) or `maxTimestamp`
 * (processing time). Everything lives in keyed state and the task's timer service.
 */
export class WindowOperator extends StreamOperator implements WindowAssignerContext {
  private readonly assigner: WindowAssigner<Window>;
  private readonly merging: MergingWindowAssigner<TimeWindow> | undefined;
  private readonly trigger: Trigger<Window>;
  private readonly lateness: number;
  private readonly lateTag: string | undefined;
  private readonly windowFn: WindowSpec['windowFunction'];
  private readonly triggers: WindowTriggerContext;
  private readonly processContext = new WindowProcessContext(this);

  constructor(
    identity: OperatorIdentity,
    spec: WindowSpec,
    private readonly contents: WindowContents,
    private readonly sessions: KeyedStore<MergingWindowSetState>,
    triggers: (op: WindowOperator) => WindowTriggerContext,
    keys: KeyContext,
  ) {
    super(identity, richOf(spec.windowFunction));
    this.keys = keys;
    this.assigner = spec.assigner;
    this.merging = isMergingAssigner(spec.assigner) ? (spec.assigner as unknown as MergingWindowAssigner<TimeWindow>) : undefined;
    this.trigger = spec.trigger ?? spec.assigner.defaultTrigger();
    this.lateness = spec.allowedLateness;
    this.lateTag = spec.lateDataTag;
    this.windowFn = spec.windowFunction;
    this.triggers = triggers(this);
    this.mergeWindows = this.mergeWindows.bind(this);
  }

  /** WindowAssignerContext: the operator is its own, so assigning allocates no context per record. */
  currentProcessingTime(): number {
    return this.processingTime.now();
  }

  collect(record: unknown): void {
    try {
      this.processRecord(record);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  private processRecord(record: unknown): void {
    const timestamp = this.time.timestamp;
    const assigner = this.assigner;
    if (assigner.isEventTime && timestamp !== timestamp) {
      throw new PlanError(
        'PLAN_NO_TIMESTAMPS',
        `window "${this.identity.operatorName}" (${this.identity.operatorId}) uses ${assigner.toString()}, an event-time assigner, but got a record without a timestamp: call assignTimestampsAndWatermarks() before keyBy()/window() (or emit records with ctx.collectWithTimestamp in the source)`,
        this.identity.operatorId,
      );
    }
    const windows = assigner.assignWindows(record, timestamp, this);
    let skipped = true;
    if (this.merging !== undefined) {
      const key = this.keys!.key();
      const set = new MergingWindowSet(this.merging, this.sessions.get(key));
      for (const w of windows as TimeWindow[]) {
        const actual = set.addWindow(w, this.mergeWindows);
        if (this.isWindowLate(actual)) {
          set.retireWindow(actual);
          continue;
        }
        skipped = false;
        const stateWindow = set.getStateWindow(actual)!;
        this.contents.add(stateWindow, record);
        this.onElement(record, timestamp, actual, stateWindow);
      }
      if (set.size === 0) this.sessions.delete(key);
      else this.sessions.put(key, set.toState());
    } else {
      for (let i = 0; i < windows.length; i++) {
        const w = windows[i];
        if (this.isWindowLate(w)) continue;
        skipped = false;
        this.contents.add(w, record);
        this.onElement(record, timestamp, w, w);
      }
    }
    if (skipped && windows.length > 0) {
      this.time.timestamp = timestamp;
      if (this.lateTag !== undefined) this.output(this.lateTag, record);
      else this.lateRecordsDropped++; // StreamOperator's counter: the task reports it (Flink's numLateRecordsDropped)
    }
  }

  private onElement(record: unknown, timestamp: number, w: Window, stateWindow: Window): void {
    const ctx = this.triggers;
    ctx.window = w;
    const result = this.trigger.onElement(record, timestamp, w, ctx);
    if (isFire(result)) this.emit(w, stateWindow);
    if (isPurge(result)) this.contents.clear(stateWindow);
    this.cleanupTimer(w, true);
  }

  /** Sessions: windows merged into `result`; their trigger state, timers and contents follow it. */
  private mergeWindows(result: TimeWindow, merged: readonly TimeWindow[], stateResult: TimeWindow, mergedState: readonly TimeWindow[]): void {
    if (this.assigner.isEventTime && result.maxTimestamp() + this.lateness <= this.currentWatermark) {
      throw new MobiusError('WINDOW_MERGED_LATE', `window "${this.identity.operatorName}": the merged window ${result.toString()} is late (watermark ${this.currentWatermark})`);
    }
    const ctx = this.triggers;
    ctx.window = result;
    ctx.mergedWindows = merged;
    this.trigger.onMerge?.(result, ctx);
    ctx.mergedWindows = [];
    for (const m of merged) {
      ctx.window = m;
      this.trigger.clear(m, ctx);
      this.cleanupTimer(m, false);
    }
    this.contents.merge(stateResult, mergedState);
  }

  override onTimer(time: number, domain: TimeDomain): void {
    try {
      for (const w of this.triggers.takeFired(time, domain)) this.onWindowTimer(time, domain, w);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  private onWindowTimer(time: number, domain: TimeDomain, w: Window): void {
    let stateWindow: Window | undefined = w;
    let set: MergingWindowSet | undefined;
    const key = this.keys!.key();
    if (this.merging !== undefined) {
      set = new MergingWindowSet(this.merging, this.sessions.get(key));
      stateWindow = set.getStateWindow(w as TimeWindow);
      if (stateWindow === undefined) return; // merged into another window since the timer was set
    }
    const ctx = this.triggers;
    ctx.window = w;
    const result = domain === 'event' ? this.trigger.onEventTime(time, w, ctx) : this.trigger.onProcessingTime(time, w, ctx);
    if (isFire(result)) this.emit(w, stateWindow);
    if (isPurge(result)) this.contents.clear(stateWindow);
    if (this.assigner.isEventTime === (domain === 'event') && time === this.cleanupTime(w)) {
      this.contents.clear(stateWindow);
      ctx.window = w;
      this.trigger.clear(w, ctx);
      if (set !== undefined) {
        set.retireWindow(w as TimeWindow);
        if (set.size === 0) this.sessions.delete(key);
        else this.sessions.put(key, set.toState());
      }
    }
  }

  private emit(w: Window, stateWindow: Window): void {
    const inputs = this.contents.inputs(stateWindow);
    if (inputs === undefined) return;
    this.time.timestamp = w.maxTimestamp();
    const fn = this.windowFn;
    const out: Collector<unknown> = this.out;
    if (fn === undefined) {
      out.collect(inputs[0]);
    } else if (typeof fn === 'function') {
      (fn as WindowFunction<unknown, unknown, unknown, Window>)(userKey(this.keys!.key()), w, inputs, out);
    } else {
      this.processContext.window = w;
      (fn as ProcessWindowFunction<unknown, unknown, unknown, Window>).process(userKey(this.keys!.key()), this.processContext, inputs, out);
    }
  }

  private cleanupTime(w: Window): number {
    const max = w.maxTimestamp();
    return this.assigner.isEventTime ? max + this.lateness : max;
  }

  private isWindowLate(w: Window): boolean {
    return this.assigner.isEventTime && this.cleanupTime(w) <= this.currentWatermark;
  }

  /** Registers (or deletes) the timer at which a window's state goes; none for the GlobalWindow, which never ends. */
  private cleanupTimer(w: Window, register: boolean): void {
    const time = this.cleanupTime(w);
    if (time >= Number.MAX_SAFE_INTEGER) return;
    const ctx = this.triggers;
    ctx.window = w;
    if (this.assigner.isEventTime) {
      if (register) ctx.registerEventTimeTimer(time);
      else ctx.deleteEventTimeTimer(time);
    } else if (register) ctx.registerProcessingTimeTimer(time);
    else ctx.deleteProcessingTimeTimer(time);
  }
}

/** What a ProcessWindowFunction sees: one object per operator, its `window` set before each call. */
class WindowProcessContext implements ProcessWindowContext<Window> {
  window: Window = GlobalWindow.INSTANCE;
  constructor(private readonly op: WindowOperator) {}

  currentWatermark(): number {
    return this.op.currentWatermark;
  }

  currentProcessingTime(): number {
    return this.op.processingTime.now();
  }

  output<T>(tag: OutputTag<T>, value: T): void {
    this.op.output(tag, value);
  }
}

/** Builds a window operator from its spec, over the task's keyed state and timers. */
export function createWindowOperator(ctx: OperatorFactoryContext): WindowOperator {
  if (ctx.keys === undefined) throw new MobiusError('PLAN_INVALID', `window "${ctx.node.name}" is not on a keyed stream`);
  const keys = ctx.keys;
  const spec = ctx.fn as WindowSpec;
  // The user's functions are copied per task, as a rich function of any other operator is.
  const own: WindowSpec = { ...spec, windowFunction: spec.windowFunction === undefined ? undefined : instantiate(spec.windowFunction) };
  const state = ctx.state();
  const timers = ctx.timers();
  const contents = new WindowContents(state.keyed(WINDOW_STORES[0]), keys, own.contents);
  const op = new WindowOperator(
    ctx.identity,
    own,
    contents,
    state.keyed(WINDOW_STORES[3]),
    (o) => new WindowTriggerContext(keys, timers, state.keyed(WINDOW_STORES[1]), state.keyed(WINDOW_STORES[2]), () => o.currentWatermark, () => o.processingTime.now()),
    keys,
  );
  op.timers = timers;
  return op;
}

/** Registers kind 'window' (keyed windows; windowAll is the same operator behind a constant key). */
export const WINDOW_OPERATOR = registerOperator('window', createWindowOperator);
