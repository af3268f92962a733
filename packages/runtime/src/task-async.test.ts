import { TaskFailedError, silentLogger, type CheckpointListener, type LogicalGraph, type SourceContext, type TaskSnapshot } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from './memory-state-backend.js';
import { Task } from './task.js';
import { deferred, rejection, settle, TestTransport } from './test-channels.js';
import { collection, node, pipeline, userSource } from './test-graph.js';
import { deploy, range, runAll } from './test-task-job.js';

/** A pseudo-random number of event-loop turns per record: calls complete out of order. */
const turns = (x: number): number => (x * 7919) % 5;

async function slowly<T>(x: number, value: T): Promise<T> {
  for (let i = turns(x); i > 0; i--) await settle();
  return value;
}

describe('Task: async functions', () => {
  it('an async map emits results in input order with at most runtime.async.capacity calls in flight, chained or not', async () => {
    for (const chaining of [true, false]) {
      const out: unknown[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      const g = pipeline(
        [
          collection('source-0', range(300)),
          node('map-1', 'map', {
            chaining,
            config: { 'runtime.async.capacity': 7 },
            fn: async (x: number) => {
              maxInFlight = Math.max(maxInFlight, ++inFlight);
              const v = await slowly(x, x * 2);
              inFlight--;
              return v;
            },
          }),
          node('sink-2', 'sink', { chaining, fn: (x: unknown) => void out.push(x) }),
        ],
        { 'runtime.batch.size': 16 },
      );
      await runAll(deploy(g));
      expect(out, `chaining ${chaining}`).toEqual(range(300).map((x) => x * 2));
      expect(maxInFlight, `chaining ${chaining}`).toBe(7);
    }
  });

  it('an async map chained to a run() source keeps order and its capacity', async () => {
    const out: unknown[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const source = {
      async run(ctx: SourceContext<number>) {
        for (let i = 0; i < 200; i++) await ctx.collect(i);
      },
    };
    const g = pipeline(
      [
        userSource('source-0', source),
        node('map-1', 'map', {
          config: { 'runtime.async.capacity': 5 },
          fn: async (x: number) => {
            maxInFlight = Math.max(maxInFlight, ++inFlight);
            const v = await slowly(x, x + 0.5);
            inFlight--;
            return v;
          },
        }),
        node('sink-2', 'sink', { chaining: false, fn: (x: unknown) => void out.push(x) }),
      ],
      { 'runtime.batch.size': 16 },
    );
    await runAll(deploy(g));
    expect(out).toEqual(range(200).map((x) => x + 0.5));
    expect(maxInFlight).toBe(5);
  });

  it.each(['map', 'sink'] as const)('a cancel ends a task whose async %s calls never settle', async (kind) => {
    const full = deferred();
    let started = 0;
    const g = pipeline([
      collection('source-0', range(10)),
      node('op-1', kind, {
        chaining: false,
        config: { 'runtime.async.capacity': 2 },
        fn: () => {
          if (++started === 2) full.resolve();
          return new Promise(() => undefined);
        },
      }),
      ...(kind === 'map' ? [node('sink-2', 'sink', { fn: () => undefined })] : []),
    ]);
    const job = deploy(g);
    const runs = job.tasks.map((t) => t.run());
    await full.promise;
    for (const t of job.tasks) t.cancel();
    await Promise.all(runs);
    expect(job.tasks.find((t) => t.vertex.operatorIds[0] === 'op-1')!.state).toBe('CANCELED');
    expect(started).toBe(2);
  });

  it('async flatMap and filter are awaited: no Promise goes downstream, no record is kept by a truthy Promise', async () => {
    const out: unknown[] = [];
    const g = pipeline([
      collection('source-0', range(50)),
      node('flatMap-1', 'flatMap', { fn: async (x: number) => slowly(x, [x, -x]) }),
      node('filter-2', 'filter', { chaining: false, fn: async (x: number) => slowly(Math.abs(x), x % 3 === 0) }),
      node('sink-3', 'sink', { fn: (x: unknown) => void out.push(x) }),
    ]);
    await runAll(deploy(g));
    expect(out).toEqual(range(50).flatMap((x) => [x, -x]).filter((x) => x % 3 === 0));
  });

  it('fails the task, naming the operator, as soon as a call rejects while the task waits for input', async () => {
    const stop = deferred();
    let sent = false;
    const source = {
      fetch(ctx: SourceContext<number>) {
        if (!sent) {
          sent = true;
          ctx.collect(1);
          return;
        }
        return stop.promise; // an unbounded source with nothing more to say
      },
    };
    const cause = new Error('lookup refused');
    const g = pipeline([
      userSource('source-0', source),
      node('map-1', 'map', {
        chaining: false,
        name: 'lookup',
        fn: async () => {
          await settle();
          throw cause;
        },
      }),
      node('sink-2', 'sink', { fn: () => undefined }),
    ]);
    const job = deploy(g);
    const src = job.tasks.find((t) => t.vertex.operatorIds[0] === 'source-0')!;
    const map = job.tasks.find((t) => t.vertex.operatorIds[0] === 'map-1')!;
    const runs = new Map(job.tasks.map((t) => [t, t.run()] as const));
    const e = await rejection(runs.get(map)!);
    expect(e).toBeInstanceOf(TaskFailedError);
    expect(e).toMatchObject({ operatorId: 'map-1', operatorName: 'lookup', cause });
    expect(map.state).toBe('FAILED');
    expect(src.state).toBe('RUNNING'); // the source never ended: the failure did not wait for input
    stop.resolve();
    for (const t of job.tasks) t.cancel();
    await Promise.allSettled(runs.values());
  });

  it.each([true, false])('a barrier waits for the calls in flight (ordered %s): results before it leave before it, and a restore from it is exactly-once', async (ordered) => {
    const n = 400;
    // Unordered results are compared as sets: only their order may differ.
    const same = (xs: number[]): number[] => (ordered ? xs : [...xs].sort((a, b) => a - b));
    const f = (x: number): number => x * 10 + 1;
    const graphOf = (sink: object): LogicalGraph =>
      pipeline(
        [
          collection('src', range(n), { config: { 'runtime.batch.size': 8 } }),
          node('map', 'map', {
            chaining: false,
            config: { 'runtime.async.capacity': 50, 'runtime.async.ordered': ordered },
            fn: async (x: number) => {
              if (x === 100) trigger();
              // Slow calls: the barrier arrives while dozens are in flight.
              for (let i = 0; i < 3 + turns(x); i++) await settle();
              return f(x);
            },
          }),
          node('out', 'sink', { chaining: false, fn: sink }),
        ],
        { 'runtime.batch.size': 8, 'runtime.channel.credits': 2 },
      );

    // First run: checkpoint 7 is triggered at the source while the map is busy.
    const before: number[] = [];
    let atBarrier = -1;
    const sink1 = {
      sink: (x: number) => void before.push(x),
      snapshotState: () => (atBarrier = before.length),
    };
    const snapshots: TaskSnapshot[] = [];
    const acked = deferred();
    const listener: CheckpointListener = {
      acknowledge(s) {
        snapshots.push(s);
        if (snapshots.length === 3) acked.resolve();
      },
      decline: (taskId, id, reason) => acked.reject(new Error(`${taskId} declined ${id}: ${reason}`)),
    };
    let tasks: Task[] = [];
    let triggered = false;
    const trigger = (): void => {
      if (triggered) return;
      triggered = true;
      tasks.find((t) => t.id.startsWith('src#'))!.triggerCheckpoint(7, Date.now());
    };
    tasks = start(graphOf(sink1), listener);
    await Promise.all(tasks.map((t) => t.run()));
    await acked.promise;
    const offset = snapshots.find((s) => s.taskId.startsWith('src#'))!.source as number;
    expect(offset).toBeGreaterThan(100);
    expect(offset).toBeLessThan(n);
    // Every record the source sent before the barrier had its result delivered before it.
    expect(atBarrier).toBe(offset);
    expect(same(before.slice(0, atBarrier))).toEqual(range(offset).map(f));

    // Second run restores checkpoint 7: the output up to the barrier plus the rerun's is exact.
    const after: number[] = [];
    triggered = true;
    const restored = start(graphOf({ sink: (x: number) => void after.push(x) }), undefined, snapshots, 1);
    await Promise.all(restored.map((t) => t.run()));
    expect(same(before.slice(0, atBarrier)).concat(same(after))).toEqual(range(n).map(f));
    if (!ordered) expect(before).not.toEqual(same(before)); // results did leave out of order
  });
});

function start(g: LogicalGraph, listener: CheckpointListener | undefined, restore?: readonly TaskSnapshot[], attempt = 0): Task[] {
  const plan = createPlan(g, 'async');
  const transport = new TestTransport();
  const services = { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger: silentLogger, checkpoints: listener };
  return plan.tasks.map((t) => new Task({ jobId: `job-${attempt}`, plan, graph: g, taskId: t.id, attempt, restore }, services));
}

