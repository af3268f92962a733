import { PlanError, type Collector, type KeySelector } from '@mobius/interface';
import type { ProcessWindowContext, ProcessWindowFunction, Trigger, Window, WindowAssigner } from '@mobius/windowing';
import type { DataStream } from './data-stream.js';
import { tagFirst, taggedKey, tagSecond, type Tagged } from './tagged-inputs.js';
import { keyedWindow } from './windowed-stream.js';

/** Joins two records of one key and window into one output. */
export type JoinFn<A, B, O> = (left: A, right: B) => O;

/** Pairs every left record of a window with every right record of it (an inner join). */
class JoinWindowFunction implements ProcessWindowFunction<Tagged, unknown, unknown, Window> {
  constructor(private readonly join: JoinFn<unknown, unknown, unknown>) {}

  process(_key: unknown, _ctx: ProcessWindowContext<Window>, elements: Iterable<Tagged>, out: Collector<unknown>): void {
    const left: unknown[] = [];
    const right: unknown[] = [];
    for (const [side, v] of elements) (side === 0 ? left : right).push(v);
    for (const l of left) for (const r of right) out.collect(this.join(l, r));
  }
}

function checkKey(fn: unknown, method: string): void {
  if (typeof fn !== 'function') throw new PlanError('PLAN_INVALID_FUNCTION', `join().${method}() takes a key selector function, got ${fn === null ? 'null' : typeof fn}`);
}

/**
 * `a.join(b).where(keyA).equalTo(keyB).window(assigner).apply((x, y) => out)`: an inner join of
 * the records of `a` and `b` with equal keys in the same window (Flink's JoinedStreams). As in
 * Flink, both inputs are tagged, united, keyed and windowed, and each firing pairs the window's
 * left and right records; the window keeps the records of both sides until it fires.
 */
export class JoinedStreams<A, B> {
  constructor(
    private readonly left: DataStream<A>,
    private readonly right: DataStream<B>,
  ) {}

  where<K>(keyA: KeySelector<A, K>): { equalTo(keyB: KeySelector<B, K>): JoinedWindowBuilder<A, B, K> } {
    checkKey(keyA, 'where');
    return {
      equalTo: (keyB) => {
        checkKey(keyB, 'equalTo');
        return new JoinedWindowBuilder(this.left, this.right, keyA, keyB);
      },
    };
  }
}

export class JoinedWindowBuilder<A, B, K> {
  constructor(
    private readonly left: DataStream<A>,
    private readonly right: DataStream<B>,
    private readonly keyA: KeySelector<A, K>,
    private readonly keyB: KeySelector<B, K>,
  ) {}

  window<W extends Window>(assigner: WindowAssigner<W>): WindowedJoin<A, B, W> {
    return new WindowedJoin(this.left, this.right, this.keyA as KeySelector<A, unknown>, this.keyB as KeySelector<B, unknown>, assigner);
  }
}

export class WindowedJoin<A, B, W extends Window> {
  private customTrigger: Trigger<W> | undefined = undefined;
  private lateness = 0;

  constructor(
    private readonly left: DataStream<A>,
    private readonly right: DataStream<B>,
    private readonly keyA: KeySelector<A, unknown>,
    private readonly keyB: KeySelector<B, unknown>,
    private readonly assigner: WindowAssigner<W>,
  ) {}

  trigger(trigger: Trigger<W>): this {
    this.customTrigger = trigger;
    return this;
  }

  allowedLateness(ms: number): this {
    this.lateness = ms;
    return this;
  }

  /** One output per (left, right) pair with equal keys in one window. */
  apply<O>(fn: JoinFn<A, B, O>): DataStream<O> {
    if (typeof fn !== 'function') throw new PlanError('PLAN_INVALID_FUNCTION', `join().apply() takes a function (left, right) => output, got ${fn === null ? 'null' : typeof fn}`);
    const { keyA, keyB } = this;
    const left = this.left.map<Tagged>(tagFirst as (v: A) => Tagged).name('join left');
    const right = this.right.map<Tagged>(tagSecond as (v: B) => Tagged).name('join right');
    const keyed = left.union(right).keyBy(taggedKey(keyA as (v: never) => unknown, keyB as (v: never) => unknown));
    const windowed = keyedWindow(keyed, this.assigner).allowedLateness(this.lateness);
    if (this.customTrigger !== undefined) windowed.trigger(this.customTrigger);
    return windowed.process(new JoinWindowFunction(fn as JoinFn<unknown, unknown, unknown>) as ProcessWindowFunction<Tagged, O, unknown, W>).name('window join');
  }
}

/** `a.join(b)`. */
export function joinStreams<A, B>(left: DataStream<A>, right: DataStream<B>): JoinedStreams<A, B> {
  return new JoinedStreams(left, right);
}
