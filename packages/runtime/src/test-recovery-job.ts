// The job of single-task-recovery.test.ts, run by hand in one process: gated sources, a keyed sum,
// a sink that can be held, checkpoints taken on demand, and the results a correct run must give.
import {
  silentLogger,
  type CheckpointListener,
  type ExecutionPlan,
  type Frame,
  type LogicalGraph,
  type SourceContext,
  type SourceFunction,
  type TaskSnapshot,
} from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { expect } from 'vitest';
import { MemoryStateBackend } from './memory-state-backend.js';
import { Task, type TaskServices } from './task.js';
import { deferred, settle, TestTransport, type Deferred } from './test-channels.js';
import { edge, graph, node, userSource } from './test-graph.js';

export const N = 800; // records: source #0 emits 0..399, source #1 emits 400..799
export const KEYS = 10;
export const JOB = 'job';

/** Lets the test say how many records each source task may have emitted so far. */
export class SourceGate {
  /** Records each source task may emit in total. */
  readonly allowed = [0, 0];
  private waiters: (() => void)[] = [];

  /** Resolves at the next allow() or wake(). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  allow(index: number, total: number): void {
    this.allowed[index] = total;
    this.wake();
  }

  /** Wakes the sources (e.g. to take a checkpoint they were asked for). */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** A fetch() source of its slice of 0..N-1, emitting only what the gate allows. */
export class GatedSource implements SourceFunction<number> {
  private start = 0;
  private offset = 0;
  private end = 0;
  private index = 0;

  constructor(private readonly gate: SourceGate, private readonly n: number, private readonly batch: number) {}

  init(parallelism: number, index: number): void {
    this.index = index;
    this.start = (index * this.n) / parallelism;
    this.offset = this.start;
    this.end = ((index + 1) * this.n) / parallelism;
  }

  fetch(ctx: SourceContext<number>): void | Promise<void> {
    const limit = Math.min(this.end, this.start + this.gate.allowed[this.index]);
    if (this.offset >= limit) return this.gate.changed();
    const stop = Math.min(limit, this.offset + this.batch);
    for (let i = this.offset; i < stop; i++) ctx.collect(i);
    this.offset = stop;
    if (this.offset >= this.end) ctx.end();
  }

  snapshotState(): number {
    return this.offset;
  }

  restoreState(state: unknown): void {
    this.offset = state as number;
  }
}

export type Pair = readonly [number, number];

export function sumJob(gate: SourceGate, sink: (p: Pair) => void): LogicalGraph {
  return graph(
    [
      userSource('src', new GatedSource(gate, N, 8), { parallelism: 2 }),
      node('pairs', 'map', {
        parallelism: 2,
        fn: (x: number) => [x % KEYS, x],
      }),
      node('sum', 'reduce', {
        parallelism: 2,
        fn: (a: Pair, b: Pair) => [a[0], a[1] + b[1]],
      }),
      node('out', 'sink', { parallelism: 1, fn: sink }),
    ],
    [edge('src', 'pairs'), edge('pairs', 'sum', 'key', { keySelector: (p: Pair) => p[0] }), edge('sum', 'out')],
    {
      'runtime.batch.size': 8,
      'runtime.channel.credits': 2,
      'checkpoint.interval.ms': 60_000,
    }
  );
}

/** The sink's view: every record in arrival order, and waits for a count. */
export class Collected {
  readonly records: Pair[] = [];
  private readonly waits: { count: number; done: Deferred<void> }[] = [];
  private held: Deferred<void> | undefined;

  readonly sink = (p: Pair): void | Promise<void> => {
    this.records.push([p[0], p[1]]);
    for (const w of this.waits) if (this.records.length >= w.count) w.done.resolve();
    // Held: the write does not complete, so the sink task reads no further frame.
    return this.held?.promise;
  };

  /** The sink stops taking frames after the one it is in (until release()). */
  hold(): void {
    this.held ??= deferred<void>();
  }

  release(): void {
    const held = this.held;
    this.held = undefined;
    held?.resolve();
  }

  /** Resolves once the sink has received `count` records. */
  reach(count: number): Promise<void> {
    const done = deferred<void>();
    if (this.records.length >= count) done.resolve();
    else this.waits.push({ count, done });
    return done.promise;
  }

  /** The last value per key. */
  final(): Map<number, number> {
    const m = new Map<number, number>();
    for (const [k, v] of this.records) m.set(k, v);
    return m;
  }
}

/** Snapshots by checkpoint, and a promise per checkpoint resolved when every task acknowledged it. */
export class Checkpoints implements CheckpointListener {
  readonly snapshots = new Map<number, TaskSnapshot[]>();
  readonly declined: string[] = [];
  private readonly all = new Map<number, Deferred<void>>();

  constructor(private readonly taskCount: number) {}

  acknowledge(s: TaskSnapshot): void {
    const list = this.snapshots.get(s.checkpointId) ?? [];
    list.push(s);
    this.snapshots.set(s.checkpointId, list);
    if (list.length === this.taskCount) this.done(s.checkpointId).resolve();
  }

  decline(taskId: string, checkpointId: number, reason: string): void {
    this.declined.push(`${taskId}:${checkpointId}:${reason}`);
    this.done(checkpointId).reject(new Error(`${taskId} declined checkpoint ${checkpointId}: ${reason}`));
  }

  done(checkpointId: number): Deferred<void> {
    let d = this.all.get(checkpointId);
    if (d === undefined) {
      d = deferred<void>();
      d.promise.catch(() => undefined);
      this.all.set(checkpointId, d);
    }
    return d;
  }

  of(checkpointId: number, taskId: string): TaskSnapshot {
    return this.snapshots.get(checkpointId)!.find((s) => s.taskId === taskId)!;
  }
}

export interface Job {
  readonly plan: ExecutionPlan;
  readonly graph: LogicalGraph;
  readonly transport: TestTransport;
  readonly services: TaskServices;
  readonly tasks: Map<string, Task>;
  readonly runs: Map<Task, Promise<void>>;
  readonly gate: SourceGate;
  readonly out: Collected;
  readonly checkpoints: Checkpoints;
}

export function startJob(): Job {
  const gate = new SourceGate();
  const out = new Collected();
  const g = sumJob(gate, out.sink);
  const plan = createPlan(g, 'failover');
  const transport = new TestTransport();
  const checkpoints = new Checkpoints(plan.tasks.length);
  const services: TaskServices = {
    transport,
    endpointOf: () => transport.endpoint,
    stateBackend: new MemoryStateBackend(),
    logger: silentLogger,
    checkpoints,
    replay: true,
  };
  const tasks = new Map(plan.tasks.map((t) => [t.id, new Task({ jobId: JOB, plan, graph: g, taskId: t.id, attempt: 0 }, services)]));
  const runs = new Map([...tasks.values()].map((t) => [t, t.run()]));
  for (const r of runs.values()) r.catch(() => undefined); // awaited below
  return {
    plan,
    graph: g,
    transport,
    services,
    tasks,
    runs,
    gate,
    out,
    checkpoints,
  };
}

/** Checkpoint `id`: triggered at the sources, acknowledged by every task, then completed on every task. */
export async function checkpoint(job: Job, id: number): Promise<void> {
  for (const t of job.tasks.values()) if (t.vertex.operatorIds[0] === 'src') t.triggerCheckpoint(id, 0);
  job.gate.wake(); // sources waiting for the gate take it now
  await job.checkpoints.done(id).promise;
  for (const t of job.tasks.values()) await t.notifyCheckpointComplete(id);
}

/**
 * Records flow from one source at a time, and each step waits until the sink has everything
 * sent so far: the reduce tasks take their inputs in a skewed order (many frames of one input,
 * then many of the other), unlike the round-robin a rerun would take without the log.
 */
export async function flow(job: Job, steps: readonly (readonly [source: number, total: number])[]): Promise<void> {
  for (const [source, total] of steps) {
    job.gate.allow(source, total);
    await job.out.reach(job.gate.allowed[0] + job.gate.allowed[1]);
  }
}

/** Turns of the event loop (no timed wait) until `done()` holds. */
export async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; !done(); i++) {
    if (i > 100_000) throw new Error(`timed out waiting for ${what}`);
    await settle();
  }
}

/**
 * The sink is held after the next record it receives: the reduce tasks go on taking their
 * inputs (their outputs wait for credit, and are kept for replay), the sink has only part of
 * their output. Records flow one source at a time as in flow(); each step waits until the
 * reduce tasks took every record sent.
 */
export async function flowHeld(job: Job, steps: readonly (readonly [source: number, total: number])[]): Promise<void> {
  job.out.hold();
  const taken = (): number => [...job.tasks.values()].filter((t) => t.vertex.operatorIds[0] === 'sum').reduce((n, t) => n + t.recordsIn, 0);
  // Everything sent so far was taken (a restarted attempt counts what it took again in its replay).
  const again = taken() - (job.gate.allowed[0] + job.gate.allowed[1]);
  for (const [source, total] of steps) {
    job.gate.allow(source, total);
    const sent = job.gate.allowed[0] + job.gate.allowed[1];
    await until(() => taken() - again === sent, `the reduce tasks to take ${sent} records`);
  }
}

/** Runs every task of the job to its end; all must finish. */
export async function finish(job: Job): Promise<void> {
  job.out.release();
  job.gate.allow(0, N / 2);
  job.gate.allow(1, N / 2);
  await Promise.all(job.runs.values());
  for (const t of job.tasks.values()) t.dispose();
}

export function expectedSums(): Map<number, number> {
  const m = new Map<number, number>();
  for (let x = 0; x < N; x++) m.set(x % KEYS, (m.get(x % KEYS) ?? 0) + x);
  return m;
}

export const sorted = (m: Map<number, number>): [number, number][] => [...m].sort((a, b) => a[0] - b[0]);

/**
 * Exactly once, record by record: per key, the running sums the sink received, differenced,
 * are exactly that key's input values (a duplicate, a loss or a different order of inputs
 * around the failure breaks this).
 */
export function expectExactlyOnce(records: readonly Pair[]): void {
  const last = new Map<number, number>();
  const increments = new Map<number, number[]>();
  for (const [k, sum] of records) {
    const list = increments.get(k) ?? [];
    list.push(sum - (last.get(k) ?? 0));
    increments.set(k, list);
    last.set(k, sum);
  }
  for (let k = 0; k < KEYS; k++) {
    const values = Array.from({ length: N / KEYS }, (_, i) => i * KEYS + k);
    expect(
      [...(increments.get(k) ?? [])].sort((a, b) => a - b),
      `key ${k}`
    ).toEqual(values);
  }
}

/** Records sent on a channel by sequence number (every frame the channel accepted). */
export function recordsBySeq(frames: readonly Frame[]): Map<number, unknown> {
  const m = new Map<number, unknown>();
  for (const f of frames) if (f.kind === 'data') f.records!.forEach((r, i) => m.set(f.seq + i, r));
  return m;
}
