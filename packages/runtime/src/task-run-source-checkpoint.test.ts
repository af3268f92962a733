import { silentLogger, type CheckpointListener, type LogicalGraph, type SourceContext, type TaskSnapshot } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from './memory-state-backend.js';
import { Task } from './task.js';
import { deferred, settle, TestTransport, type Deferred } from './test-channels.js';
import { edge, graph, node, userSource } from './test-graph.js';
import { range } from './test-task-job.js';

/*
 * A run() source that waits on its own work (here a promise the test resolves: an external
 * event) takes a checkpoint barrier while it waits, and what it does while that checkpoint is
 * under way lands after the barrier: its offset, the chained functions' state and the records
 * downstream tasks got before the barrier agree, and a restore from it gives every record once.
 */
const N = 20;
/** Records the source emits before it waits. */
const FIRST = 8;
/** Waits on tasks reaching a point: generous for a loaded 2-core machine. */
const TIMEOUT_MS = 30_000;

/** What the test and the source share (the task runs a copy of the source object). */
interface Cues {
  /** The source emitted its first records and waits on `wake`. */
  readonly waiting: Deferred<void>;
  readonly wake: Deferred<void>;
  /** The source woke and goes on (it is about to collect). */
  readonly woke: Deferred<void>;
  /** The task read the source's offset (the first checkpoint began). */
  readonly snapshotted: Deferred<void>;
}

const cues = (): Cues => ({ waiting: deferred(), wake: deferred(), woke: deferred(), snapshotted: deferred() });

/** Emits 0..N-1; after FIRST it awaits the test's `wake` (not a collect). Counts a record before collecting it. */
function waitingSource(c: Cues) {
  return {
    next: 0,
    async run(ctx: SourceContext<number>) {
      while (this.next < FIRST) await ctx.collect(this.next++);
      if (this.next === FIRST) {
        c.waiting.resolve();
        await c.wake.promise;
        c.woke.resolve();
      }
      while (this.next < N) await ctx.collect(this.next++);
    },
    snapshotState(): number {
      c.snapshotted.resolve();
      return this.next;
    },
    restoreState(next: unknown): void {
      this.next = next as number;
    },
  };
}

/** Counts the records it passed; its snapshot waits for `gate` when given (a slow pre-commit). */
function countingMap(onSnapshot?: { readonly entered: Deferred<void>; readonly gate: Deferred<void> }) {
  return {
    seen: 0,
    map(x: number): number {
      this.seen++;
      return x;
    },
    async snapshotState(): Promise<number> {
      if (onSnapshot !== undefined) {
        onSnapshot.entered.resolve();
        await onSnapshot.gate.promise;
      }
      return this.seen;
    },
  };
}

/** Keeps what it got, and how many it had when a barrier reached it. */
function keepingSink(into: number[]) {
  return {
    sink(x: number): void {
      into.push(x);
    },
    snapshotState(): number {
      return into.length;
    },
  };
}

/** source → map (chained) → sink (a task of its own, downstream over a channel). */
function job(source: object, map: object, sink: object): LogicalGraph {
  return graph(
    [userSource('src', source, { parallelism: 1 }), node('map', 'map', { fn: map }), node('out', 'sink', { parallelism: 1, chaining: false, fn: sink })],
    [edge('src', 'map'), edge('map', 'out')],
    { 'runtime.batch.size': 4 },
  );
}

/** Runs the graph's tasks; `acked(id)` resolves once every task acknowledged checkpoint `id`. */
function start(g: LogicalGraph, restore?: readonly TaskSnapshot[]) {
  const plan = createPlan(g, 'parked');
  const transport = new TestTransport();
  const acks = new Map<number, TaskSnapshot[]>();
  const complete = new Map<number, Deferred<TaskSnapshot[]>>();
  const waiter = (id: number): Deferred<TaskSnapshot[]> => {
    let d = complete.get(id);
    if (d === undefined) complete.set(id, (d = deferred<TaskSnapshot[]>()));
    return d;
  };
  const checkpoints: CheckpointListener = {
    acknowledge(s) {
      const list = [...(acks.get(s.checkpointId) ?? []), s];
      acks.set(s.checkpointId, list);
      if (list.length === plan.tasks.length) waiter(s.checkpointId).resolve(list);
    },
    decline(taskId, id, reason) {
      waiter(id).reject(new Error(`${taskId} declined ${id}: ${reason}`));
    },
  };
  const services = { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger: silentLogger, checkpoints };
  const tasks = plan.tasks.map((t) => new Task({ jobId: 'parked', plan, graph: g, taskId: t.id, attempt: restore === undefined ? 0 : 1, restore }, services));
  const source = tasks.find((t) => t.vertex.operatorIds[0] === 'src')!;
  return {
    tasks,
    done: Promise.all(tasks.map((t) => t.run())),
    checkpoint(id: number): Promise<TaskSnapshot[]> {
      source.triggerCheckpoint(id, Date.now());
      return waiter(id).promise;
    },
  };
}

const of = (snapshots: readonly TaskSnapshot[], prefix: string): TaskSnapshot => snapshots.find((s) => s.taskId.startsWith(prefix))!;

/** The checkpoint cut the stream after the FIRST records: the source's offset and the sink's count say so. */
function expectCutAtFirst(snapshots: readonly TaskSnapshot[]): void {
  expect(of(snapshots, 'src').source).toBe(FIRST);
  expect(of(snapshots, 'out').functions).toEqual({ out: FIRST });
}

/** Once the checkpoint is under way (`started`), wakes the source and lets it run to its next collect; then lets the checkpoint go on. */
async function wakeDuringCheckpoint(c: Cues, started: Promise<void>, goOn: Deferred<void>): Promise<void> {
  await started;
  c.wake.resolve();
  await c.woke.promise;
  goOn.resolve();
}

describe('a run() source waiting on its own work takes checkpoints', () => {
  it('checkpoints triggered while the source awaits its own promise complete before it resolves', async () => {
    const c = cues();
    const out: number[] = [];
    const j = start(job(waitingSource(c), countingMap(), keepingSink(out)));
    await c.waiting.promise;
    for (const id of [1, 2]) {
      const snapshots = await j.checkpoint(id);
      expectCutAtFirst(snapshots);
      expect(of(snapshots, 'src').functions).toEqual({ map: FIRST });
    }
    expect(c.woke.settled).toBe(false);
    c.wake.resolve();
    await j.done;
    expect(out).toEqual(range(N));
  }, TIMEOUT_MS);

  it('what the source emits while that checkpoint is under way lands after its barrier; a restore from it gives every record once', async () => {
    const c = cues();
    const slow = { entered: deferred(), gate: deferred() };
    const first: number[] = [];
    const j = start(job(waitingSource(c), countingMap(slow), keepingSink(first)));
    await c.waiting.promise;
    const acked = j.checkpoint(1);
    // The chained map pre-commits slowly: the source wakes meanwhile and collects record FIRST.
    await wakeDuringCheckpoint(c, slow.entered.promise, slow.gate);
    const snapshots = await acked;
    expectCutAtFirst(snapshots);
    expect(of(snapshots, 'src').functions).toEqual({ map: FIRST });
    await j.done;
    expect(first).toEqual(range(N));

    // Restored at checkpoint 1 (the sink keeps what it had then): the rest comes once.
    const c2 = cues();
    c2.wake.resolve();
    const second: number[] = first.slice(0, FIRST);
    await start(job(waitingSource(c2), countingMap(), keepingSink(second)), snapshots).done;
    expect(second).toEqual(range(N));
  }, TIMEOUT_MS);

  it('its offset is read when the barrier is taken, before the calls in flight of a chained async function settle', async () => {
    const c = cues();
    const call = { entered: deferred(), gate: deferred() };
    const out: number[] = [];
    const slowLast = async (x: number): Promise<number> => {
      if (x === FIRST - 1) {
        call.entered.resolve();
        await call.gate.promise;
      }
      return x;
    };
    const j = start(job(waitingSource(c), slowLast, keepingSink(out)));
    await c.waiting.promise;
    await call.entered.promise;
    const acked = j.checkpoint(1);
    // The checkpoint read the offset and waits for the call in flight: the source wakes meanwhile.
    await wakeDuringCheckpoint(c, c.snapshotted.promise, call.gate);
    expectCutAtFirst(await acked);
    await j.done;
    expect(out).toEqual(range(N));
  }, TIMEOUT_MS);

  it('a source that returns while that checkpoint is under way ends after it', async () => {
    const c = cues();
    const order: string[] = [];
    const entered = deferred();
    const gate = deferred();
    const out: number[] = [];
    const source = {
      async run(ctx: SourceContext<number>) {
        await ctx.collect(1);
        c.waiting.resolve();
        await c.wake.promise;
        c.woke.resolve();
      },
    };
    const map = {
      map: (x: number) => x,
      async snapshotState(): Promise<string> {
        entered.resolve();
        await gate.promise;
        order.push('snapshot');
        return 'taken';
      },
      finish(): void {
        order.push('finish');
        // The end of input must not come before the checkpoint's snapshot; were it to, let it finish.
        gate.resolve();
      },
    };
    const j = start(job(source, map, keepingSink(out)));
    await c.waiting.promise;
    const acked = j.checkpoint(1);
    await entered.promise;
    c.wake.resolve();
    await c.woke.promise;
    // Turns of the event loop (no clock) in which a task that did not wait would reach its end of input.
    for (let i = 0; i < 50 && !gate.settled; i++) await settle();
    gate.resolve();
    const snapshots = await acked;
    expect(of(snapshots, 'src').functions).toEqual({ map: 'taken' });
    await j.done;
    expect(order).toEqual(['snapshot', 'finish']);
    expect(j.tasks.map((t) => t.state)).toEqual(['FINISHED', 'FINISHED']);
    expect(out).toEqual([1]);
  }, TIMEOUT_MS);
});
