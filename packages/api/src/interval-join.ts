import { PlanError, type IntervalJoinFn, type PartitionSpec } from '@mobius/interface';
import { DataStream, type KeyedStream } from './data-stream.js';
import { connectTagged, taggedKey } from './tagged-inputs.js';

function checkBound(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !Number.isInteger(value)) {
    throw new PlanError('PLAN_INVALID_FUNCTION', `intervalJoin().between(): ${what} must be a whole number of ms, got ${String(value)}`);
  }
  return value;
}

/** `a.keyBy(k).intervalJoin(b.keyBy(k))`: give the interval with `between(lowerMs, upperMs)`. */
export class IntervalJoin<L, R, K> {
  constructor(
    private readonly left: KeyedStream<L, K>,
    private readonly right: KeyedStream<R, K>,
  ) {
    const r = right as unknown as { upstream?: { graph?: unknown; partition?: { kind?: string } } } | null;
    if (r === null || typeof r !== 'object' || r.upstream?.graph === undefined || r.upstream.partition?.kind !== 'key') {
      throw new PlanError('PLAN_INVALID_FUNCTION', 'intervalJoin() takes a KeyedStream (b.keyBy(k))');
    }
    if (r.upstream.graph !== left.upstream.graph) throw new PlanError('PLAN_INVALID_FUNCTION', 'intervalJoin() takes a stream of the same StreamingContext');
  }

  /**
   * Joins each left `l` with each right `r` of its key where `l.ts + lowerMs <= r.ts <= l.ts +
   * upperMs` (both bounds inclusive; negative bounds look back in time).
   */
  between(lowerMs: number, upperMs: number): IntervalJoined<L, R, K> {
    const lower = checkBound(lowerMs, 'the lower bound');
    const upper = checkBound(upperMs, 'the upper bound');
    if (lower > upper) throw new PlanError('PLAN_INVALID_FUNCTION', `intervalJoin().between(${lower}, ${upper}): the lower bound is above the upper bound`);
    return new IntervalJoined<L, R, K>(this.left, this.right, lower, upper);
  }
}

/** An interval join with its bounds; ends with `process(fn)`. */
export class IntervalJoined<L, R, K> {
  private lowerExclusive = false;
  private upperExclusive = false;

  constructor(
    private readonly left: KeyedStream<L, K>,
    private readonly right: KeyedStream<R, K>,
    private readonly lowerMs: number,
    private readonly upperMs: number,
  ) {}

  /** `l.ts + lowerMs < r.ts` instead of `<=` (timestamps are whole ms: the bound moves up by 1). */
  lowerBoundExclusive(): this {
    this.lowerExclusive = true;
    return this;
  }

  /** `r.ts < l.ts + upperMs` instead of `<=`. */
  upperBoundExclusive(): this {
    this.upperExclusive = true;
    return this;
  }

  /**
   * Calls `fn(left, right, ctx, out)` once per matching pair; what it emits carries the larger
   * of the two timestamps. Both inputs need event time (assignTimestampsAndWatermarks).
   */
  process<O>(fn: IntervalJoinFn<L, R, O>): DataStream<O> {
    if (typeof fn !== 'function') throw new PlanError('PLAN_INVALID_FUNCTION', `intervalJoin(...).process() takes a function (left, right, ctx, out) => void, got ${typeof fn}`);
    const lowerMs = this.lowerMs + (this.lowerExclusive ? 1 : 0);
    const upperMs = this.upperMs - (this.upperExclusive ? 1 : 0);
    if (lowerMs > upperMs) throw new PlanError('PLAN_INVALID_FUNCTION', `intervalJoin(): with exclusive bounds the interval (${this.lowerMs}, ${this.upperMs}) is empty`);
    const a = this.left.upstream;
    const key: PartitionSpec = { kind: 'key', keySelector: taggedKey(this.left.keySelector as (v: never) => unknown, this.right.keySelector as (v: never) => unknown), explicit: true };
    const node = connectTagged(a, this.right.upstream, 'intervalJoin', 'intervalJoin', { lowerMs, upperMs, fn }, () => key);
    return new DataStream<O>(a.graph, node);
  }
}
