import { describe, expect, it } from 'vitest';
import { StreamingContext, type MapFunction, type RuntimeContext, type SinkFunction, type SourceContext, type SourceFunction } from 'mobius';

/** Rich functions with per-task fields are classes (each parallel task gets its own copy). */
class RecordByTask implements SinkFunction<number> {
  private index = -1;
  constructor(private readonly byTask: Map<number, number[]>) {}
  open(rc: RuntimeContext): void {
    this.index = rc.taskIndex;
  }
  sink(x: number): void {
    const list = this.byTask.get(this.index) ?? [];
    list.push(x);
    this.byTask.set(this.index, list);
  }
}

class TagWithTask implements MapFunction<string, [string, number]> {
  private index = -1;
  open(rc: RuntimeContext): void {
    this.index = rc.taskIndex;
  }
  map(w: string): [string, number] {
    return [w, this.index];
  }
}

class RangeSource implements SourceFunction<number> {
  private next = 0;
  private stop = 0;
  init(_parallelism: number, index: number): void {
    this.next = index * 100;
    this.stop = this.next + 100;
  }
  fetch(sc: SourceContext<number>): void {
    for (let i = 0; i < 7 && this.next < this.stop; i++) sc.collect(this.next++);
    if (this.next >= this.stop) sc.end();
  }
}

class Tagger implements MapFunction<number, string> {
  private info = '';
  open(rc: RuntimeContext): void {
    this.info = `${rc.operatorName}:${rc.taskIndex}/${rc.parallelism}:${String(rc.getConfig('runtime.batch.size'))}:${String(rc.operatorConfig['runtime.channel.credits'])}`;
  }
  map(x: number): string {
    return `${this.info}:${x}`;
  }
}

describe("the seed's small cases", () => {
  it("fromValues('a','b','c').flatMap(dup)...reduce gives a:2, b:2, c:2", async () => {
    const ctx = StreamingContext.builder().build();
    const updates = await ctx
      .fromValues('a', 'b', 'c')
      .flatMap((x: string) => [x, x])
      .map((x): [string, number] => [x, 1])
      .keyBy((p) => p[0])
      .reduce((a, b): [string, number] => [a[0], a[1] + b[1]])
      .executeAndCollect('dup');
    // Each key's updates come from one reduce task, in order: the last one is its total.
    expect(Object.fromEntries(new Map(updates))).toEqual({ a: 2, b: 2, c: 2 });
  });

  it('the collector form of flatMap works like the iterable form', async () => {
    const ctx = StreamingContext.builder().build();
    const out = await ctx
      .fromValues('a b', 'c')
      .flatMap<string>((line: string, collector) => {
        for (const w of line.split(' ')) collector.collect(w.toUpperCase());
      })
      .executeAndCollect('collector');
    expect(out.sort()).toEqual(['A', 'B', 'C']);
  });

  it('a union of three sources delivers every element once', async () => {
    const ctx = StreamingContext.builder().build();
    const a = ctx.fromCollection(Array.from({ length: 1000 }, (_, i) => `a${i}`)).setParallelism(2);
    const b = ctx.fromCollection(Array.from({ length: 1500 }, (_, i) => `b${i}`));
    const c = ctx.fromValues('c0', 'c1', 'c2').setParallelism(3);
    const seen = await a.union(b, c).setParallelism(2).executeAndCollect('union');
    const expected = [...Array.from({ length: 1000 }, (_, i) => `a${i}`), ...Array.from({ length: 1500 }, (_, i) => `b${i}`), 'c0', 'c1', 'c2'];
    expect(seen.length).toBe(expected.length);
    expect(new Set(seen).size).toBe(expected.length);
    expect(seen.sort()).toEqual(expected.sort());
  });

  it('broadcast delivers every element to every parallel sink task', async () => {
    const ctx = StreamingContext.builder().build();
    const byTask = new Map<number, number[]>();
    class TaskSink implements SinkFunction<number> {
      private index = -1;
      open(rc: RuntimeContext): void {
        this.index = rc.taskIndex;
        byTask.set(this.index, []);
      }
      sink(value: number): void {
        byTask.get(this.index)!.push(value);
      }
    }
    const values = Array.from({ length: 5000 }, (_, i) => i);
    ctx.fromCollection(values).setParallelism(2).broadcast().sink(new TaskSink()).setParallelism(3);
    await ctx.execute('broadcast');
    expect([...byTask.keys()].sort()).toEqual([0, 1, 2]);
    for (const received of byTask.values()) expect(received.sort((x, y) => x - y)).toEqual(values);
  });

  it('a custom partitionBy routes as written', async () => {
    const ctx = StreamingContext.builder().build();
    const byTask = new Map<number, number[]>();
    const values = Array.from({ length: 3000 }, (_, i) => i);
    ctx
      .fromCollection(values)
      .setParallelism(2)
      .partitionBy((x: number, n: number) => (x % 10 === 0 ? [0, n - 1] : x % n))
      .sink(new RecordByTask(byTask))
      .setParallelism(4);
    await ctx.execute('partition');
    for (let t = 0; t < 4; t++) {
      const expected = values.filter((x) => (x % 10 === 0 ? t === 0 || t === 3 : x % 4 === t));
      expect((byTask.get(t) ?? []).sort((a, b) => a - b)).toEqual(expected);
    }
  });

  it('keyBy routes equal keys to the same reduce task', async () => {
    const ctx = StreamingContext.builder().build();
    const words = Array.from({ length: 10_000 }, (_, i) => `w${i % 257}`);
    const tagged = await ctx
      .fromCollection(words)
      .setParallelism(3)
      .keyBy((w: string) => w)
      .map(new TagWithTask())
      .setParallelism(4)
      .executeAndCollect('keyed');
    const taskOfKey = new Map<string, Set<number>>();
    for (const [w, t] of tagged) taskOfKey.set(w, (taskOfKey.get(w) ?? new Set<number>()).add(t));
    expect(taskOfKey.size).toBe(257);
    for (const tasks of taskOfKey.values()) expect(tasks.size).toBe(1);
    expect(new Set([...taskOfKey.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);
  });

  it('a user SourceFunction with fetch() and one with run() both deliver and end', async () => {
    const ctx = StreamingContext.builder().build();
    const fetchSource = ctx.source(new RangeSource());
    const runSource = ctx.source<number>({
      async run(sc: SourceContext<number>) {
        for (let i = 1000; i < 1500; i++) {
          const wait = sc.collect(i);
          if (wait) await wait;
        }
      },
    });
    const seen = await fetchSource.setParallelism(3).union(runSource).executeAndCollect('sources');
    expect(seen.sort((a, b) => a - b)).toEqual([...Array.from({ length: 300 }, (_, i) => i), ...Array.from({ length: 500 }, (_, i) => 1000 + i)]);
  });

  it('rich functions see their task index, parallelism and config', async () => {
    const ctx = StreamingContext.builder().option('runtime.batch.size', 64).build();
    const tagged = await ctx
      .fromValues(1, 2, 3, 4)
      .map(new Tagger())
      .name('tagger')
      .withConfig('runtime.channel.credits', 2)
      .setParallelism(2)
      .disableChain()
      .executeAndCollect('rich');
    const seen = tagged.map((s) => s.slice(0, s.lastIndexOf(':')));
    expect(new Set(seen)).toEqual(new Set(['tagger:0/2:64:2', 'tagger:1/2:64:2']));
  });
});
