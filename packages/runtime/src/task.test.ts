import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BackpressureError,
  TaskFailedError,
  silentLogger,
  type Collector,
  type LogicalGraph,
  type Logger,
  type RuntimeContext,
  type SourceContext,
  type SourceFunction,
} from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { keyGroupOf, normalizeKey, taskIndexForKeyGroup } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from './memory-state-backend.js';
import { Task } from './task.js';
import { deferred, rejection, settle, TestTransport } from './test-channels.js';
import { collection, edge, graph, node, pipeline, userSource } from './test-graph.js';

interface Job {
  readonly tasks: Task[];
  readonly transport: TestTransport;
  /** The tasks of the vertex whose head is `headId`, by index. */
  of(headId: string): Task[];
}

function deploy(g: LogicalGraph, logger: Logger = silentLogger): Job {
  const plan = createPlan(g, 'test-job');
  const transport = new TestTransport();
  const services = { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger };
  const tasks = plan.tasks.map((t) => new Task({ jobId: 'job-1', plan, graph: g, taskId: t.id, attempt: 0 }, services));
  return { tasks, transport, of: (headId) => tasks.filter((t) => t.vertex.id === headId).sort((a, b) => a.planTask.index - b.planTask.index) };
}

/** Runs every task; resolves when all finished (rejects with the first failure). */
function runAll(job: Job): Promise<void> {
  return Promise.all(job.tasks.map((t) => t.run())).then(() => undefined);
}

/** A rich sink that records [taskIndex, record] pairs (copied per task, so `index` is per task). */
function indexedSink(into: [number, unknown][]) {
  return {
    index: -1,
    open(ctx: RuntimeContext) {
      this.index = ctx.taskIndex;
    },
    sink(record: unknown) {
      into.push([this.index, record]);
    },
  };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const SMALL = { 'runtime.batch.size': 4, 'runtime.channel.credits': 2 };

describe('Task: delivering records', () => {
  it('runs a word count: chained operators, a keyed shuffle, running values, metrics', async () => {
    const lines = ['a b c', 'b c d', 'c d e', 'the ray a', 'a a a', '', 'e'];
    const words = lines.flatMap((l) => l.split(' ').filter((w) => w !== ''));
    const out: [number, unknown][] = [];
    const g = graph(
      [
        collection('source-0', lines, { parallelism: 2 }),
        node('flatMap-1', 'flatMap', { fn: (l: string) => l.split(' ').filter((w) => w !== '') }),
        node('map-2', 'map', { fn: (w: string) => [w, 1] as const }),
        node('reduce-3', 'reduce', { parallelism: 3, fn: (a: [string, number], b: [string, number]) => [a[0], a[1] + b[1]] }),
        node('sink-4', 'sink', { fn: indexedSink(out) }),
      ],
      [
        edge('source-0', 'flatMap-1'),
        edge('flatMap-1', 'map-2'),
        edge('map-2', 'reduce-3', 'key', { keySelector: (p: [string, number]) => p[0] }),
        edge('reduce-3', 'sink-4'),
      ],
      SMALL,
    );
    const job = deploy(g);
    expect(job.tasks.map((t) => t.id).sort()).toEqual(['reduce-3#0', 'reduce-3#1', 'reduce-3#2', 'source-0#0', 'source-0#1']);
    await runAll(job);

    expect(job.tasks.every((t) => t.state === 'FINISHED')).toBe(true);
    // One running value per word; the last (largest) per word is its count.
    expect(out).toHaveLength(words.length);
    const final = new Map<string, number>();
    for (const [, [w, n]] of out as [number, [string, number]][]) final.set(w, Math.max(final.get(w) ?? 0, n));
    const expected = new Map<string, number>();
    for (const w of words) expected.set(w, (expected.get(w) ?? 0) + 1);
    expect(final).toEqual(expected);
    // Each word was counted by the task owning its key group.
    for (const [index, [w]] of out as [number, [string, number]][]) {
      expect(index, w).toBe(taskIndexForKeyGroup(keyGroupOf(normalizeKey(w), 128), 3, 128));
    }

    const sources = job.of('source-0').map((t) => t.metrics());
    const reducers = job.of('reduce-3').map((t) => t.metrics());
    expect(sources.map((m) => m.recordsIn)).toEqual([3, 4]); // the lines of each slice
    expect(sources.reduce((s, m) => s + m.recordsOut, 0)).toBe(words.length); // word pairs sent
    expect(reducers.reduce((s, m) => s + m.recordsIn, 0)).toBe(words.length);
    expect(reducers.every((m) => m.recordsOut === 0)).toBe(true); // the sink is chained
    expect(sources[0]).toMatchObject({ taskId: 'source-0#0', vertexName: 'source-0 -> flatMap-1 -> map-2', attempt: 0 });
  });

  it('keeps order on a forward channel under backpressure, never exceeding the credits', async () => {
    const got: unknown[] = [];
    const g = pipeline(
      [
        collection('source-0', range(1000)),
        node('map-1', 'map', { chaining: false, fn: (x: number) => x * 2 }),
        node('sink-2', 'sink', { chaining: false, fn: (x: unknown) => void got.push(x) }),
      ],
      SMALL,
    );
    const job = deploy(g);
    expect(job.tasks).toHaveLength(3);
    await runAll(job);
    expect(got).toEqual(range(1000).map((x) => x * 2));
    for (const ch of job.transport.channels.values()) {
      expect(ch.maxQueued).toBeLessThanOrEqual(2);
      expect(ch.sent.filter((f) => f.kind === 'data').every((f) => f.count <= 4)).toBe(true);
      expect(ch.sent.at(-1)!.kind).toBe('end');
    }
    const [map] = job.of('map-1');
    expect(map.metrics()).toMatchObject({ recordsIn: 1000, recordsOut: 1000 });
  });

  it('rebalances round-robin into a wider operator', async () => {
    const out: [number, unknown][] = [];
    const g = pipeline([collection('source-0', range(30)), node('sink-1', 'sink', { parallelism: 3, fn: indexedSink(out) })], SMALL);
    await runAll(deploy(g));
    expect(out.map(([, r]) => r).sort((a, b) => (a as number) - (b as number))).toEqual(range(30));
    for (let i = 0; i < 3; i++) expect(out.filter(([t]) => t === i)).toHaveLength(10);
  });

  it('broadcasts every record to every task', async () => {
    const out: [number, unknown][] = [];
    const g = graph([collection('source-0', range(10)), node('sink-1', 'sink', { parallelism: 3, fn: indexedSink(out) })], [edge('source-0', 'sink-1', 'broadcast')], SMALL);
    await runAll(deploy(g));
    for (let i = 0; i < 3; i++) expect(out.filter(([t]) => t === i).map(([, r]) => r)).toEqual(range(10));
  });

  it('routes by a custom partitioner (function or object with partition())', async () => {
    for (const partitioner of [(r: number, n: number) => r % n, { partition: (r: number, n: number) => [r % n] }]) {
      const out: [number, unknown][] = [];
      const g = graph(
        [collection('source-0', range(12)), node('sink-1', 'sink', { parallelism: 3, fn: indexedSink(out) })],
        [edge('source-0', 'sink-1', 'custom', { partitioner })],
        SMALL,
      );
      await runAll(deploy(g));
      expect(out).toHaveLength(12);
      for (const [t, r] of out) expect(t).toBe((r as number) % 3);
    }
  });

  it('merges a union of two sources', async () => {
    const got: unknown[] = [];
    const g = graph(
      [
        collection('left-0', ['l1', 'l2', 'l3']),
        collection('right-1', ['r1', 'r2']),
        node('union-2', 'union'),
        node('sink-3', 'sink', { fn: (x: unknown) => void got.push(x) }),
      ],
      [edge('left-0', 'union-2'), edge('right-1', 'union-2'), edge('union-2', 'sink-3')],
      SMALL,
    );
    const job = deploy(g);
    await runAll(job);
    expect([...got].sort()).toEqual(['l1', 'l2', 'l3', 'r1', 'r2']);
    expect(job.of('union-2')[0].metrics().recordsIn).toBe(5);
  });

  it('copies rich functions per task: each task has its own fields', async () => {
    const out: unknown[] = [];
    const counter = {
      count: 0,
      map(x: number) {
        this.count++;
        return [x, this.count];
      },
    };
    const g = pipeline(
      [collection('source-0', range(6), { parallelism: 2 }), node('map-1', 'map', { fn: counter }), node('sink-2', 'sink', { fn: (x: unknown) => void out.push(x) })],
      SMALL,
    );
    await runAll(deploy(g));
    // Each task counted its own 3 records from 1.
    expect(out.filter((p) => (p as number[])[0] < 3).map((p) => (p as number[])[1])).toEqual([1, 2, 3]);
    expect(out.filter((p) => (p as number[])[0] >= 3).map((p) => (p as number[])[1])).toEqual([1, 2, 3]);
    expect(counter.count).toBe(0);
  });

  it('reads a text file in parallel byte ranges', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mobius-task-'));
    try {
      const lines = range(500).map((i) => (i % 7 === 0 ? '' : `line ${i} ${'é'.repeat(i % 13)}`));
      const path = join(dir, 'input.txt');
      await writeFile(path, lines.join('\r\n'));
      const got: unknown[] = [];
      const g = pipeline(
        [
          node('source-0', 'source', { parallelism: 3, source: { type: 'textFile', path }, data: undefined }),
          node('sink-1', 'sink', { parallelism: 1, fn: (x: unknown) => void got.push(x) }),
        ],
        SMALL,
      );
      const job = deploy(g);
      await runAll(job);
      expect([...got].sort()).toEqual([...lines].sort());
      expect(job.of('source-0').reduce((s, t) => s + t.metrics().recordsIn, 0)).toBe(500);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens operators downstream first and closes them all at the end', async () => {
    const calls: string[] = [];
    const rich = (name: string, method: string) => ({
      open() {
        calls.push(`open ${name}`);
      },
      close() {
        calls.push(`close ${name}`);
      },
      [method]: (x: unknown) => (method === 'filter' ? true : method === 'sink' ? undefined : x),
    });
    const g = pipeline([collection('source-0', [1]), node('map-1', 'map', { fn: rich('map', 'map') }), node('filter-2', 'filter', { fn: rich('filter', 'filter') }), node('sink-3', 'sink', { fn: rich('sink', 'sink') })]);
    await runAll(deploy(g));
    expect(calls).toEqual(['open sink', 'open filter', 'open map', 'close map', 'close filter', 'close sink']);
  });

  it('refuses a task id that is not in the plan', () => {
    const g = pipeline([collection('source-0', [1]), node('sink-1', 'sink')]);
    const plan = createPlan(g);
    const transport = new TestTransport();
    expect(
      () => new Task({ jobId: 'j', plan, graph: g, taskId: 'nope#0', attempt: 0 }, { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger: silentLogger }),
    ).toThrow(TaskFailedError);
  });
});

describe('Task: async sinks', () => {
  it('awaits a batch of promises together before the next batch, and all of them before finishing', async () => {
    for (const chaining of [true, false]) {
      const done: unknown[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      const g = pipeline(
        [
          collection('source-0', range(50)),
          node('sink-1', 'sink', {
            chaining,
            fn: async (x: unknown) => {
              maxInFlight = Math.max(maxInFlight, ++inFlight);
              await settle();
              inFlight--;
              done.push(x);
            },
          }),
        ],
        { 'runtime.batch.size': 8 },
      );
      const job = deploy(g);
      await runAll(job);
      expect(done, `chaining ${chaining}`).toEqual(range(50));
      expect(maxInFlight, `chaining ${chaining}`).toBeGreaterThan(1); // not one await per record
      expect(maxInFlight, `chaining ${chaining}`).toBeLessThanOrEqual(8); // at most one batch
    }
  });

  it('fails the task when a write rejects, naming the sink', async () => {
    const cause = new Error('write refused');
    const g = pipeline([
      collection('source-0', range(5)),
      node('sink-1', 'sink', {
        name: 'store',
        fn: async (x: number) => {
          await settle();
          if (x === 3) throw cause;
        },
      }),
    ]);
    const [task] = deploy(g).tasks;
    const e = await rejection(task.run());
    expect(e).toBeInstanceOf(TaskFailedError);
    expect(e).toMatchObject({ operatorId: 'sink-1', operatorName: 'store', taskIndex: 0, cause });
    expect(task.state).toBe('FAILED');
  });

  it('a write that rejects while a run() source awaits something else fails the task (no unhandled rejection)', async () => {
    const cause = new Error('late failure');
    const sinkFailed = deferred();
    const resume = deferred();
    const g = pipeline(
      [
        userSource('source-0', {
          async run(ctx: SourceContext<unknown>) {
            await ctx.collect(1);
            await resume.promise;
          },
        }),
        node('sink-1', 'sink', {
          fn: async () => {
            await settle();
            sinkFailed.resolve();
            throw cause;
          },
        }),
      ],
      { 'runtime.batch.size': 100 },
    );
    const [task] = deploy(g).tasks;
    const run = task.run();
    run.catch(() => undefined);
    await sinkFailed.promise;
    await settle();
    await settle();
    resume.resolve();
    const e = await rejection(run);
    expect(e).toMatchObject({ operatorId: 'sink-1', cause });
    expect(task.state).toBe('FAILED');
  });
});

describe('Task: failures', () => {
  it('a throwing map in a source chain rejects run() with TaskFailedError naming operator and task index', async () => {
    const cause = new Error('bad record 7');
    const logged: object[] = [];
    const logger: Logger = { ...silentLogger, error: (obj) => void logged.push(obj), child: () => logger };
    const g = pipeline([
      collection('source-0', range(10), { parallelism: 2 }),
      node('map-1', 'map', {
        name: 'parse',
        fn: (x: number) => {
          if (x === 7) throw cause;
          return x;
        },
      }),
      node('sink-2', 'sink'),
    ]);
    const job = deploy(g, logger);
    const [t0, t1] = job.tasks;
    await t0.run();
    const e = await rejection(t1.run());
    expect(e).toBeInstanceOf(TaskFailedError);
    expect(e).toMatchObject({ code: 'TASK_FAILED', operatorId: 'map-1', operatorName: 'parse', taskIndex: 1, cause });
    expect((e as Error).message).toContain('"parse" (map-1) task #1');
    expect(t0.state).toBe('FINISHED');
    expect(t1.state).toBe('FAILED');
    expect(logged).toEqual([expect.objectContaining({ err: e, operator: 'parse', taskIndex: 1 })]);
  });

  it('a throwing map in a task reading channels fails that task', async () => {
    const cause = new TypeError('no');
    const g = pipeline(
      [
        collection('source-0', range(10)),
        node('map-1', 'map', {
          chaining: false,
          fn: (x: number) => {
            if (x === 6) throw cause;
            return x;
          },
        }),
        node('sink-2', 'sink'),
      ],
      { 'runtime.batch.size': 4, 'runtime.channel.credits': 8 },
    );
    const job = deploy(g);
    const [source] = job.of('source-0');
    const [map] = job.of('map-1');
    await source.run(); // everything fits in the channel's credit
    expect(source.state).toBe('FINISHED');
    const e = await rejection(map.run());
    expect(e).toBeInstanceOf(TaskFailedError);
    expect(e).toMatchObject({ operatorId: 'map-1', taskIndex: 0, cause });
    expect(map.state).toBe('FAILED');
    expect(map.metrics().recordsIn).toBe(8); // it failed in the second frame
  });

  it('a failing open() fails the task and still closes its operators', async () => {
    const cause = new Error('no connection');
    let closed = 0;
    const g = pipeline([
      collection('source-0', [1]),
      node('map-1', 'map', {
        fn: {
          open() {
            throw cause;
          },
          map: (x: unknown) => x,
        },
      }),
      node('sink-2', 'sink', {
        fn: {
          sink() {},
          close() {
            closed++;
          },
        },
      }),
    ]);
    const [task] = deploy(g).tasks;
    expect(await rejection(task.run())).toMatchObject({ operatorId: 'map-1', cause });
    expect(task.state).toBe('FAILED');
    expect(closed).toBe(1);
  });

  it('a run() source that ignores the promise collect() returns fails with BackpressureError', async () => {
    let collected = 0;
    const g = pipeline(
      [
        userSource('source-0', {
          run(ctx: SourceContext<unknown>) {
            for (let i = 0; i < 1_000_000; i++) {
              void ctx.collect(i); // never awaited
              collected++;
            }
          },
        }),
        node('sink-1', 'sink', { chaining: false }),
      ],
      { 'runtime.batch.size': 1, 'runtime.channel.credits': 2 },
    );
    const job = deploy(g);
    const [source] = job.of('source-0');
    const [sink] = job.of('sink-1');
    const sinkRun = sink.run();
    const e = await rejection(source.run());
    expect(e).toBeInstanceOf(TaskFailedError);
    const cause = (e as TaskFailedError).cause;
    expect(cause).toBeInstanceOf(BackpressureError);
    expect(cause).toMatchObject({ code: 'BACKPRESSURE_IGNORED' });
    expect((cause as Error).message).toContain('source "source-0" task #0');
    expect(source.state).toBe('FAILED');
    // It was stopped early, within the bound: 2 frames in the channel + 64 + 16·1·2 queued.
    expect(collected).toBeLessThan(200);
    sink.cancel();
    await sinkRun;
    expect(sink.state).toBe('CANCELED');
  });
});

describe('Task: cancellation', () => {
  it('cancel() stops an unbounded fetch() source; run() resolves with CANCELED', async () => {
    for (const asyncFetch of [false, true]) {
      const seen = deferred();
      let got = 0;
      let next = 0;
      const source: SourceFunction<unknown> = {
        fetch(ctx) {
          for (let i = 0; i < 10; i++) ctx.collect(next++);
          return asyncFetch ? settle() : undefined;
        },
      };
      const g = pipeline(
        [
          userSource('source-0', source),
          node('sink-1', 'sink', {
            chaining: false,
            fn: () => {
              if (++got === 100) seen.resolve();
            },
          }),
        ],
        SMALL,
      );
      const job = deploy(g);
      const runs = job.tasks.map((t) => t.run());
      await seen.promise;
      for (const t of job.tasks) t.cancel();
      await Promise.all(runs);
      expect(job.tasks.map((t) => t.state)).toEqual(['CANCELED', 'CANCELED']);
      const emitted = next;
      await settle();
      await settle();
      expect(next, `async fetch ${asyncFetch}`).toBe(emitted); // no more fetch calls
    }
  });

  it('cancel() unwinds a run() source that ignores ctx.cancelled: collect() throws; run() resolves with CANCELED', async () => {
    const seen = deferred();
    let got = 0;
    let after: unknown = undefined;
    const g = pipeline(
      [
        userSource('source-0', {
          async run(ctx: SourceContext<unknown>) {
            try {
              for (let i = 0; ; i++) await ctx.collect(i);
            } catch (e) {
              after = e;
              throw e;
            }
          },
        }),
        node('sink-1', 'sink', {
          chaining: false,
          fn: () => {
            if (++got === 100) seen.resolve();
          },
        }),
      ],
      SMALL,
    );
    const job = deploy(g);
    const [source, sink] = [job.of('source-0')[0], job.of('sink-1')[0]];
    const runs = [source.run(), sink.run()];
    await seen.promise;
    source.cancel();
    sink.cancel();
    await Promise.all(runs);
    expect(source.state).toBe('CANCELED');
    expect(sink.state).toBe('CANCELED');
    expect(after).toBeInstanceOf(Error); // collect() threw into the loop
  });

  it('cancelling a run() source that does not await collect() raises no unhandled rejection', async () => {
    const seen = deferred();
    let got = 0;
    const g = pipeline(
      [
        userSource('source-0', {
          async run(ctx: SourceContext<unknown>) {
            for (let i = 0; !ctx.cancelled; i++) {
              void ctx.collect(i); // the promise is dropped
              await settle();
            }
          },
        }),
        node('sink-1', 'sink', {
          chaining: false,
          fn: () => {
            if (++got === 20) seen.resolve();
          },
        }),
      ],
      { 'runtime.batch.size': 1, 'runtime.channel.credits': 2 },
    );
    const job = deploy(g);
    const runs = job.tasks.map((t) => t.run());
    await seen.promise;
    for (const t of job.tasks) t.cancel();
    await Promise.all(runs);
    await settle();
    await settle();
    expect(job.tasks.map((t) => t.state)).toEqual(['CANCELED', 'CANCELED']);
  });

  it('a run() source that returns when ctx.cancelled is set ends as CANCELED', async () => {
    const started = deferred();
    const g = pipeline([
      userSource('source-0', {
        async run(ctx: SourceContext<unknown>) {
          started.resolve();
          while (!ctx.cancelled) await settle();
        },
      }),
      node('sink-1', 'sink'),
    ]);
    const [task] = deploy(g).tasks;
    const run = task.run();
    await started.promise;
    expect(task.state).toBe('RUNNING');
    task.cancel();
    await run;
    expect(task.state).toBe('CANCELED');
  });

  it('an unbounded run() source chained into its sink still lets the event loop run, so it can be cancelled', async () => {
    let turned = false;
    let got = 0;
    const g = pipeline([
      userSource('source-0', {
        async run(ctx: SourceContext<unknown>) {
          setImmediate(() => (turned = true));
          for (let i = 0; ; i++) {
            if (i > 200_000 && !turned) throw new Error('the event loop was starved');
            await ctx.collect(i);
          }
        },
      }),
      node('sink-1', 'sink', { fn: () => void got++ }),
    ]);
    const [task] = deploy(g).tasks;
    const run = task.run();
    run.catch(() => undefined);
    await settle(); // a macrotask turn: only possible if the source yields
    expect(task.state).toBe('RUNNING');
    task.cancel();
    await run;
    expect(task.state).toBe('CANCELED');
    expect(got).toBeGreaterThan(0);
  });

  it('cancel() of a task waiting for input ends it at once', async () => {
    const g = pipeline([collection('source-0', [1]), node('sink-1', 'sink', { chaining: false })]);
    const job = deploy(g);
    const [sink] = job.of('sink-1');
    const run = sink.run(); // its source never runs
    await settle();
    expect(sink.state).toBe('RUNNING');
    sink.cancel();
    await run;
    expect(sink.state).toBe('CANCELED');
  });
});

describe('Task: flushing', () => {
  it('linger: a run() source awaiting a long promise still has its record delivered', async () => {
    const delivered = deferred<unknown>();
    const release = deferred();
    const g = pipeline(
      [
        userSource('source-0', {
          async run(ctx: SourceContext<unknown>) {
            await ctx.collect('first');
            await release.promise; // e.g. waiting on I/O for the next record
          },
        }),
        node('sink-1', 'sink', { chaining: false, fn: (x: unknown) => delivered.resolve(x) }),
      ],
      { 'runtime.batch.size': 100, 'runtime.linger.ms': 1 },
    );
    const job = deploy(g);
    const runs = runAll(job);
    expect(await delivered.promise).toBe('first');
    release.resolve();
    await runs;
    const [source] = job.of('source-0');
    expect(source.metrics().recordsOut).toBe(1);
  });

  it('a synchronous fetch() source that has nothing to emit flushes its partial batch', async () => {
    const delivered = deferred<unknown>();
    let calls = 0;
    const g = pipeline(
      [
        userSource('source-0', {
          fetch(ctx: SourceContext<unknown>) {
            calls++;
            if (calls === 1) ctx.collect('only');
            else if (delivered.settled) ctx.end();
            else if (calls > 20_000) throw new Error('the record was never sent');
          },
        }),
        node('sink-1', 'sink', { chaining: false, fn: (x: unknown) => delivered.resolve(x) }),
      ],
      { 'runtime.batch.size': 100, 'runtime.linger.ms': 60_000 },
    );
    const job = deploy(g);
    const runs = runAll(job);
    const finishedFirst = runs.then(() => 'finished without delivering');
    expect(await Promise.race([delivered.promise, finishedFirst])).toBe('only');
    await runs;
    expect(job.tasks.map((t) => t.state)).toEqual(['FINISHED', 'FINISHED']);
  });

  it('a task reading channels sends its partial batch when its input is idle', async () => {
    const delivered = deferred<unknown>();
    const release = deferred();
    const g = pipeline(
      [
        userSource('source-0', {
          async run(ctx: SourceContext<unknown>) {
            await ctx.collect('x');
            await release.promise;
          },
        }),
        node('map-1', 'map', { chaining: false, fn: (x: string) => x.toUpperCase() }),
        node('sink-2', 'sink', { chaining: false, fn: (x: unknown) => delivered.resolve(x) }),
      ],
      { 'runtime.batch.size': 100, 'runtime.linger.ms': 1 },
    );
    const job = deploy(g);
    const runs = runAll(job);
    // The source's linger sends 'x'; the map task, finding no more input, flushes 'X' at once.
    expect(await delivered.promise).toBe('X');
    release.resolve();
    await runs;
  });
});

describe('Task: collector form inside a task', () => {
  it('flatMap emitting through the collector reaches the sink', async () => {
    const got: unknown[] = [];
    const g = pipeline([
      collection('source-0', ['ab', 'c']),
      node('flatMap-1', 'flatMap', {
        fn: (s: string, out: Collector<string>) => {
          for (const ch of s) out.collect(ch);
        },
      }),
      node('sink-2', 'sink', { fn: (x: unknown) => void got.push(x) }),
    ]);
    await runAll(deploy(g));
    expect(got).toEqual(['a', 'b', 'c']);
  });
});
