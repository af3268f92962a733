import { MobiusError, ProcessError, type IntervalJoinContext, type IntervalJoinFn, type KeyedStore, type OutputTag, type StateKey, type Collector } from '@mobius/interface';
import { operatorFailure, type OperatorIdentity } from '../operators/operator.js';
import { registerOperator } from '../operators/operator-registry.js';
import { StreamOperator } from '../operators/stream-operator.js';

/** What the api puts in the node: the function and the bounds (inclusive, exclusive ones already moved by 1 ms). */
export interface IntervalJoinSpec {
  readonly lowerMs: number;
  readonly upperMs: number;
  readonly fn: IntervalJoinFn<unknown, unknown, unknown>;
}

/** A side's buffer of one key: `[timestamp, record]` in arrival order. */
type Buffer = [number, unknown][];

/**
 * The interval join (Flink's IntervalJoinOperator) on a keyed stream whose records arrive tagged
 * `[0, left]` / `[1, right]`: each record is joined with the other side's buffer of its key,
 * calling the function once per pair with `left.ts + lower <= right.ts <= left.ts + upper`, then
 * kept in its own buffer (keyed state 'left' / 'right', so checkpoints and rescaling carry it).
 * An event-time timer removes a left record once the watermark reaches `ts + upper` and a right
 * one at `ts - lower`: no record still to come can match them. A record at or below the
 * watermark is late and dropped, because some of its matches may already be gone.
 */
export class IntervalJoinOperator extends StreamOperator implements IntervalJoinContext {
  private leftTs = NaN;
  private rightTs = NaN;
  private outTs = NaN;
  private readonly fn: IntervalJoinFn<unknown, unknown, unknown>;
  private readonly lower: number;
  private readonly upper: number;
  /** The function's `out` (made once): records leave with the larger of the two timestamps. */
  private readonly joined: Collector<unknown> = {
    collect: (value) => {
      this.time.timestamp = this.outTs;
      this.out.collect(value);
    },
  };

  constructor(
    identity: OperatorIdentity,
    spec: IntervalJoinSpec,
    private readonly left: KeyedStore<Buffer>,
    private readonly right: KeyedStore<Buffer>,
  ) {
    super(identity, undefined);
    this.fn = spec.fn;
    this.lower = spec.lowerMs;
    this.upper = spec.upperMs;
  }

  collect(record: unknown): void {
    const ts = this.time.timestamp;
    if (ts !== ts) {
      throw operatorFailure(
        this.identity,
        new ProcessError('INTERVAL_JOIN_NO_TIMESTAMP', `interval join "${this.identity.operatorName}" got a record without an event time: call assignTimestampsAndWatermarks() on both inputs`),
      );
    }
    if (ts <= this.currentWatermark) {
      this.lateRecordsDropped++;
      return;
    }
    const [side, value] = record as readonly [number, unknown];
    const key = this.keys!.key();
    try {
      if (side === 0) {
        this.join(value, ts, this.right.get(key), true);
        this.append(this.left, key, ts, value);
        this.timers!.registerEventTimeTimer(ts + this.upper);
      } else {
        this.join(value, ts, this.left.get(key), false);
        this.append(this.right, key, ts, value);
        this.timers!.registerEventTimeTimer(ts - this.lower);
      }
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  private join(value: unknown, ts: number, others: Buffer | undefined, isLeft: boolean): void {
    if (others === undefined) return;
    // A left l matches r when l + lower <= r <= l + upper; from r's side: r - upper <= l <= r - lower.
    const from = isLeft ? ts + this.lower : ts - this.upper;
    const to = isLeft ? ts + this.upper : ts - this.lower;
    for (let i = 0; i < others.length; i++) {
      const other = others[i];
      const ots = other[0];
      if (ots < from || ots > to) continue;
      if (isLeft) this.emit(value, ts, other[1], ots);
      else this.emit(other[1], ots, value, ts);
    }
  }

  private emit(left: unknown, leftTs: number, right: unknown, rightTs: number): void {
    this.leftTs = leftTs;
    this.rightTs = rightTs;
    this.outTs = leftTs > rightTs ? leftTs : rightTs;
    this.fn(left, right, this, this.joined);
  }

  private append(store: KeyedStore<Buffer>, key: StateKey, ts: number, value: unknown): void {
    const buffer = store.get(key);
    if (buffer === undefined) store.put(key, [[ts, value]]);
    else {
      buffer.push([ts, value]);
      store.put(key, buffer);
    }
  }

  /** A cleanup timer: drop the left records with `ts + upper <= time` and the right ones with `ts - lower <= time`. */
  override onTimer(time: number, domain: 'event' | 'processing'): void {
    if (domain !== 'event') return;
    const key = this.keys!.key();
    this.prune(this.left, key, (ts) => ts + this.upper <= time);
    this.prune(this.right, key, (ts) => ts - this.lower <= time);
  }

  private prune(store: KeyedStore<Buffer>, key: StateKey, expired: (ts: number) => boolean): void {
    const buffer = store.get(key);
    if (buffer === undefined) return;
    const kept = buffer.filter((e) => !expired(e[0]));
    if (kept.length === buffer.length) return;
    if (kept.length === 0) store.delete(key);
    else store.put(key, kept);
  }

  // ---- IntervalJoinContext (and the function's collector) ----

  leftTimestamp(): number {
    return this.leftTs;
  }

  rightTimestamp(): number {
    return this.rightTs;
  }

  timestamp(): number {
    return this.outTs;
  }

  override output<X>(tag: OutputTag<X> | string, value: X): void {
    this.time.timestamp = this.outTs;
    super.output(tag, value);
  }
}

/** Registers kind 'intervalJoin' (`a.keyBy(k).intervalJoin(b.keyBy(k)).between(lower, upper).process(fn)`). */
export const INTERVAL_JOIN_OPERATOR = registerOperator('intervalJoin', (ctx) => {
  if (ctx.keys === undefined) throw new MobiusError('PLAN_NOT_KEYED', `interval join "${ctx.node.name}" is not on keyed streams`);
  const state = ctx.state();
  const op = new IntervalJoinOperator(ctx.identity, ctx.fn as IntervalJoinSpec, state.keyed<Buffer>('left'), state.keyed<Buffer>('right'));
  op.timers = ctx.timers();
  return op;
});
