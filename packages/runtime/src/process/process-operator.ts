import { MobiusError, type Collector, type RichFunction } from '@mobius/interface';
import { operatorFailure, type OperatorIdentity } from '../operators/operator.js';
import { registerOperator, type OperatorFactoryContext } from '../operators/operator-registry.js';
import { StreamOperator, richOf } from '../operators/stream-operator.js';
import { BroadcastStates, type BroadcastStatesSnapshot } from './broadcast-states.js';
import { ProcessFunctionContext } from './process-context.js';
import { BROADCAST_SNAPSHOT_MARK } from './task-zero-broadcast.js';

/** How a process operator reads its input. */
export type ProcessInput =
  /** One input: the record itself (process, keyedProcess). */
  | 'one'
  /** Two inputs tagged by the API: `[0, a]` → processElement1, `[1, b]` → processElement2. */
  | 'two'
  /** `[0, a]` → processElement (read-only broadcast state), `[1, b]` → processBroadcastElement. */
  | 'broadcast';

type Method = (value: unknown, ctx: ProcessFunctionContext, out: Collector<unknown>) => void;

interface AnyProcessFunction extends RichFunction {
  processElement?: Method;
  processElement1?: Method;
  processElement2?: Method;
  processBroadcastElement?: Method;
  onTimer?: (timestamp: number, ctx: ProcessFunctionContext, out: Collector<unknown>) => void;
}

const REQUIRED: Record<ProcessInput, readonly (keyof AnyProcessFunction)[]> = {
  one: ['processElement'],
  two: ['processElement1', 'processElement2'],
  broadcast: ['processElement', 'processBroadcastElement'],
};

/**
 * Runs a process function (Flink's ProcessOperator, KeyedProcessOperator, CoProcessOperator,
 * (Keyed)BroadcastProcessOperator): every variant is this one class, told by `input` how to
 * dispatch. Two inputs arrive tagged on one input of the task (see the api README), so the
 * operator's watermark is the minimum of both through the input gate. Records from
 * processElement keep the input's timestamp; from an event-time timer they carry the timer's
 * time, from a processing-time timer none.
 */
export class ProcessOperator extends StreamOperator {
  private readonly ctx: ProcessFunctionContext;
  private readonly broadcast: BroadcastStates | undefined;
  private readonly first: Method;
  private readonly second: Method | undefined;
  private readonly fn: AnyProcessFunction;

  /** `fn`: the user's process function object (its methods are checked here). */
  constructor(
    identity: OperatorIdentity,
    userFn: unknown,
    private readonly input: ProcessInput,
  ) {
    super(identity, richOf(userFn));
    const fn = userFn as AnyProcessFunction;
    this.fn = fn;
    for (const m of REQUIRED[input]) {
      if (typeof fn?.[m] !== 'function') {
        throw new MobiusError('PLAN_INVALID_FUNCTION', `process function of "${identity.operatorName}" has no ${String(m)}() method`);
      }
    }
    this.broadcast = input === 'broadcast' ? new BroadcastStates(identity.operatorName) : undefined;
    this.ctx = new ProcessFunctionContext(this, this.broadcast);
    this.first = input === 'two' ? fn.processElement1! : fn.processElement!;
    this.second = input === 'two' ? fn.processElement2 : input === 'broadcast' ? fn.processBroadcastElement : undefined;
  }

  collect(record: unknown): void {
    const ctx = this.ctx;
    ctx.timestampMs = this.time.timestamp;
    try {
      if (this.input === 'one') {
        this.first.call(this.fn, record, ctx, ctx);
        return;
      }
      const tagged = record as readonly [number, unknown];
      if (tagged[0] === 0) {
        ctx.writable = false;
        this.first.call(this.fn, tagged[1], ctx, ctx);
      } else {
        ctx.writable = this.input === 'broadcast';
        // A broadcast record has no key: keyed state used from processBroadcastElement fails (STATE_NO_KEY) instead of writing to an arbitrary key.
        if (ctx.writable && this.keys !== undefined) this.keys.currentKey = undefined;
        try {
          this.second!.call(this.fn, tagged[1], ctx, ctx);
        } finally {
          ctx.writable = false;
        }
      }
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  override onTimer(time: number, domain: 'event' | 'processing'): void {
    const onTimer = this.fn.onTimer;
    if (typeof onTimer !== 'function') return;
    const ctx = this.ctx;
    ctx.timestampMs = domain === 'event' ? time : NaN;
    ctx.domain = domain;
    try {
      onTimer.call(this.fn, time, ctx, ctx);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  override snapshotState(checkpointId: number): unknown {
    const own = super.snapshotState(checkpointId);
    if (this.broadcast === undefined) return own;
    return { [BROADCAST_SNAPSHOT_MARK]: 1, broadcast: this.broadcast.snapshot(), function: own };
  }

  override async restoreState(state: unknown): Promise<void> {
    if (this.broadcast === undefined) return super.restoreState(state);
    const s = state as { broadcast?: BroadcastStatesSnapshot; function?: unknown };
    if (s.broadcast !== undefined) this.broadcast.restore(s.broadcast);
    if (s.function !== undefined) await super.restoreState(s.function);
  }

  override get hasState(): boolean {
    return this.broadcast !== undefined || super.hasState;
  }
}

function factory(input: ProcessInput): (ctx: OperatorFactoryContext) => StreamOperator {
  return (ctx) => {
    const op = new ProcessOperator(ctx.identity, ctx.fn, input);
    if (ctx.keys !== undefined) op.timers = ctx.timers();
    return op;
  };
}

/** `stream.process(fn)` and `keyed.process(fn)` (timers when keyed). */
export const PROCESS_OPERATOR = registerOperator('process', factory('one'));
/** `a.connect(b).process(fn)` and `a.connect(b).keyBy(ka, kb).process(fn)`. */
export const CO_PROCESS_OPERATOR = registerOperator('coProcess', factory('two'));
/** `a.connect(b.broadcast(descriptor)).process(fn)`, keyed or not. */
export const BROADCAST_PROCESS_OPERATOR = registerOperator('broadcastProcess', factory('broadcast'));
