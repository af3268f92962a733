import { describe, expect, it } from 'vitest';
import { JobFailedError, MobiusError, StreamingContext, TaskFailedError, type Collector, type FlatMapFunction, type MapFunction, type RuntimeContext } from 'mobius';
import { listState, mapState, valueState, type ListState, type MapState, type ValueState } from '@mobius/interface';

/** Counts the records of each key in a ValueState. */
class CountPerKey implements MapFunction<string, [string, number]> {
  private count!: ValueState<number>;
  open(ctx: RuntimeContext): void {
    this.count = ctx.getState(valueState<number>('count', { defaultValue: 0 }));
  }
  map(w: string): [string, number] {
    const n = this.count.value()! + 1;
    this.count.update(n);
    return [w, n];
  }
}

/** Emits the last three values of each key (a ListState). */
class LastThree implements FlatMapFunction<[string, number], [string, number[]]> {
  private last!: ListState<number>;
  open(ctx: RuntimeContext): void {
    this.last = ctx.getListState(listState<number>('last'));
  }
  flatMap(r: [string, number], out: Collector<[string, number[]]>): void {
    this.last.add(r[1]);
    const all = this.last.get();
    if (all.length > 3) this.last.update(all.slice(-3));
    out.collect([r[0], [...this.last.get()]]);
  }
}

/** Counts per (key, sub-key) in a MapState; emits the count and the number of sub-keys seen. */
class CountPerSubKey implements MapFunction<[string, string], [string, string, number, number]> {
  private counts!: MapState<string, number>;
  open(ctx: RuntimeContext): void {
    this.counts = ctx.getMapState(mapState<string, number>('counts'));
  }
  map(r: [string, string]): [string, string, number, number] {
    const n = (this.counts.get(r[1]) ?? 0) + 1;
    this.counts.put(r[1], n);
    return [r[0], r[1], n, [...this.counts.keys()].length];
  }
}

class NotKeyed implements MapFunction<number, number> {
  open(ctx: RuntimeContext): void {
    ctx.getState(valueState<number>('oops'));
  }
  map(x: number): number {
    return x;
  }
}

const words = Array.from({ length: 2000 }, (_, i) => `w${(i * 7919) % 37}`);

const sortRows = <T>(rows: T[]): T[] => rows.map((r) => JSON.stringify(r)).sort().map((s) => JSON.parse(s) as T);

describe('keyed state through the mobius API', () => {
  for (const parallelism of [1, 3]) {
    it(`a keyed map counts per key in a ValueState (parallelism ${parallelism})`, async () => {
      const reference: [string, number][] = [];
      const seen = new Map<string, number>();
      for (const w of words) {
        const n = (seen.get(w) ?? 0) + 1;
        seen.set(w, n);
        reference.push([w, n]);
      }
      const ctx = StreamingContext.builder().build();
      const got = await ctx
        .fromCollection(words)
        .setParallelism(1)
        .keyBy((w) => w)
        .map(new CountPerKey())
        .setParallelism(parallelism)
        .executeAndCollect(`count-${parallelism}`);
      expect(sortRows(got)).toEqual(sortRows(reference));
    });
  }

  it('a keyed flatMap keeps the last 3 values per key in a ListState', async () => {
    const input: [string, number][] = Array.from({ length: 300 }, (_, i) => [`k${i % 5}`, i]);
    const reference: [string, number[]][] = [];
    const lists = new Map<string, number[]>();
    for (const [k, v] of input) {
      const l = [...(lists.get(k) ?? []), v].slice(-3);
      lists.set(k, l);
      reference.push([k, l]);
    }
    const ctx = StreamingContext.builder().build();
    const got = await ctx
      .fromCollection(input)
      .setParallelism(1)
      .keyBy((r) => r[0])
      .flatMap(new LastThree())
      .setParallelism(2)
      .executeAndCollect('last-three');
    expect(sortRows(got)).toEqual(sortRows(reference));
  });

  it('a MapState counts per (key, sub-key)', async () => {
    const input: [string, string][] = Array.from({ length: 500 }, (_, i) => [`u${i % 4}`, `p${(i * 13) % 6}`]);
    const reference: [string, string, number, number][] = [];
    const maps = new Map<string, Map<string, number>>();
    for (const [k, s] of input) {
      const m = maps.get(k) ?? new Map<string, number>();
      maps.set(k, m);
      m.set(s, (m.get(s) ?? 0) + 1);
      reference.push([k, s, m.get(s)!, m.size]);
    }
    const ctx = StreamingContext.builder().build();
    const got = await ctx
      .fromCollection(input)
      .setParallelism(1)
      .keyBy((r) => r[0])
      .map(new CountPerSubKey())
      .setParallelism(3)
      .executeAndCollect('sub-keys');
    expect(sortRows(got)).toEqual(sortRows(reference));
  });

  it('getState in open() of a map that is not keyed fails the job with STATE_NOT_KEYED', async () => {
    const ctx = StreamingContext.builder().build();
    ctx
      .fromValues(1, 2, 3)
      .map(new NotKeyed())
      .name('unkeyed')
      .sink(() => undefined);
    const failure = await ctx.execute('not-keyed').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(JobFailedError);
    expect((failure as JobFailedError).operatorName).toBe('unkeyed');
    const task = (failure as JobFailedError).cause as TaskFailedError;
    expect(task).toBeInstanceOf(TaskFailedError);
    const cause = task.cause as MobiusError;
    expect(cause).toBeInstanceOf(MobiusError);
    expect(cause.code).toBe('STATE_NOT_KEYED');
    expect(cause.message).toContain('operator "unkeyed"');
    expect(cause.message).toContain('keyBy()');
  });
});
