import { type SourceContext, type SourceFunction } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { deferred, rejection, settle } from './test-channels.js';
import { collection, node, pipeline, userSource } from './test-graph.js';
import { deploy, runAll, SMALL } from './test-task-job.js';

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
