import {
  BackpressureError,
  TaskFailedError,
  silentLogger,
  type Logger,
  type SourceContext,
} from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { deferred, rejection, settle } from './test-channels.js';
import { collection, node, pipeline, userSource } from './test-graph.js';
import { deploy, runAll, range } from './test-task-job.js';

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
