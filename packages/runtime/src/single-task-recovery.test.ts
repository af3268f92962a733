import {
  silentLogger,
  type CheckpointListener,
  type Determinant,
  type ExecutionPlan,
  type Frame,
  type LogicalGraph,
  type SourceContext,
  type SourceFunction,
  type TaskSnapshot,
} from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from './memory-state-backend.js';
import { Task, type TaskServices } from './task.js';
import { deferred, settle, TestTransport, type Deferred } from './test-channels.js';
import { edge, graph, node, userSource } from './test-graph.js';

/**
 * Single-task failover end to end, in one process: a job source (p=2) → keyBy → reduce (sum
 * per key, p=2) → sink (p=1). One reduce task is cancelled mid-stream (its death), a new
 * attempt restores it from checkpoint 1 with the determinants its downstream task kept, and
 * its neighbours re-open their channels to it. The sink must see exactly what a run without
 * the failure produces.
 */

const N = 800; // records: source #0 emits 0..399, source #1 emits 400..799
const KEYS = 10;
const JOB = 'job';

/** Lets the test say how many records each source task may have emitted so far. */
class SourceGate {
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
class GatedSource implements SourceFunction<number> {
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

type Pair = readonly [number, number];

function sumJob(gate: SourceGate, sink: (p: Pair) => void): LogicalGraph {
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
class Collected {
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
class Checkpoints implements CheckpointListener {
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

interface Job {
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

function startJob(): Job {
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
async function checkpoint(job: Job, id: number): Promise<void> {
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
async function flow(job: Job, steps: readonly (readonly [source: number, total: number])[]): Promise<void> {
  for (const [source, total] of steps) {
    job.gate.allow(source, total);
    await job.out.reach(job.gate.allowed[0] + job.gate.allowed[1]);
  }
}

/** Turns of the event loop (no timed wait) until `done()` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
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
async function flowHeld(job: Job, steps: readonly (readonly [source: number, total: number])[]): Promise<void> {
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
async function finish(job: Job): Promise<void> {
  job.out.release();
  job.gate.allow(0, N / 2);
  job.gate.allow(1, N / 2);
  await Promise.all(job.runs.values());
  for (const t of job.tasks.values()) t.dispose();
}

function expectedSums(): Map<number, number> {
  const m = new Map<number, number>();
  for (let x = 0; x < N; x++) m.set(x % KEYS, (m.get(x % KEYS) ?? 0) + x);
  return m;
}

const sorted = (m: Map<number, number>): [number, number][] => [...m].sort((a, b) => a[0] - b[0]);

/**
 * Exactly once, record by record: per key, the running sums the sink received, differenced,
 * are exactly that key's input values (a duplicate, a loss or a different order of inputs
 * around the failure breaks this).
 */
function expectExactlyOnce(records: readonly Pair[]): void {
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
function recordsBySeq(frames: readonly Frame[]): Map<number, unknown> {
  const m = new Map<number, unknown>();
  for (const f of frames) if (f.kind === 'data') f.records!.forEach((r, i) => m.set(f.seq + i, r));
  return m;
}

const PHASES = {
  /** Before checkpoint 1: 80 records from each source. */
  before: [
    [0, 80],
    [1, 80],
  ],
  /** After checkpoint 1, before the failure: skewed runs of one input at a time. */
  after: [
    [1, 160],
    [0, 120],
    [1, 200],
    [0, 136],
  ],
  /** Then, with the sink held (it has only part of the reduce tasks' output when one dies). */
  held: [
    [1, 264],
    [0, 200],
    [1, 296],
  ],
} as const;

interface Failover {
  readonly job: Job;
  readonly reduceId: string;
  readonly determinants: readonly Determinant[];
  readonly snapshot: TaskSnapshot;
  readonly replayed: number;
  readonly old: Task;
  readonly restarted: Task;
  /** Plan id of the channel from the reduce task to the sink. */
  readonly outChannel: string;
  /** Records the sink had when the reduce task died. */
  readonly sinkHad: number;
  /** Sequence number → record, of what the sink took from the dead attempt. */
  readonly sinkRead: Map<number, unknown>;
}

interface FailureOptions {
  /** The new attempt's number (the dead one's is one less). Default 1. */
  readonly attempt?: number;
  /** The checkpoint it restores. Default 1. */
  readonly checkpointId?: number;
  /** A checkpoint in flight at the failure: aborted on every live task, and stale for the new attempt. */
  readonly abort?: number;
  /** The new attempt's log, from the sink task (default: the sink's copy). */
  readonly determinantsFor?: (sink: Task) => readonly Determinant[];
  /** The sink runs on between handing over the determinants and the rewire (as while the coordinator deploys the new attempt). */
  readonly sinkGoesOn?: boolean;
}

/**
 * Reduce task `reduceId` dies (only it: every other task keeps running and keeps its state);
 * its new attempt restores the checkpoint with the log the sink kept of it, and the sources
 * and the sink re-open their channels to it. Then the sink is let go on.
 */
async function failTask(job: Job, reduceId: string, options: FailureOptions = {}): Promise<Failover> {
  const attempt = options.attempt ?? 1;
  const checkpointId = options.checkpointId ?? 1;
  const determinantsFor = options.determinantsFor ?? ((sink: Task) => sink.determinantsOf(reduceId));
  const sink = job.tasks.get('out#0')!;
  const sinkHad = job.out.records.length;

  const old = job.tasks.get(reduceId)!;
  old.cancel();
  await job.runs.get(old);
  expect(old.state).toBe('CANCELED');
  job.runs.delete(old);
  if (options.abort !== undefined) for (const t of job.tasks.values()) if (t !== old) t.notifyCheckpointAborted(options.abort);

  const outChannel = job.plan.channels.find((c) => c.sourceTask === reduceId && c.targetTask === 'out#0')!.id;
  const oldOut = job.transport.channels.get(`${JOB}/${attempt - 1}.0/${outChannel}`)!;
  const snapshot = job.checkpoints.of(checkpointId, reduceId);
  // A copy, as the coordinator gets it: the sink's own copy goes on changing.
  const determinants = [...determinantsFor(sink)];
  if (options.sinkGoesOn === true) {
    // The sink goes on while the new attempt is deployed: it takes all the other reduce task
    // sent, but not the dead attempt's frames still in its channel (it handed over their log).
    const queued = oldOut.queued;
    expect(queued).toBeGreaterThan(0);
    job.out.release();
    const other = [...job.tasks.values()].find((t) => t.vertex.operatorIds[0] === 'sum' && t.id !== reduceId)!;
    const otherCid = job.plan.channels.find((c) => c.sourceTask === other.id && c.targetTask === 'out#0')!.id;
    const otherOut = job.transport.channels.get(`${JOB}/0.0/${otherCid}`)!;
    const sent = (): number => otherOut.sent.reduce((n, f) => n + f.count, 0);
    await until(
      () => other.metrics().recordsOut === other.recordsIn && sent() === other.recordsIn && otherOut.queued === 0,
      'the sink to take the other output'
    );
    expect(job.out.records.length).toBeGreaterThan(sinkHad);
    expect(oldOut.queued).toBe(queued);
  }
  // What of the dead attempt's output the sink took (the rest is dropped at the rewire).
  const sinkRead = recordsBySeq(oldOut.sent.slice(0, oldOut.sent.length - oldOut.queued));

  const attempts = Object.fromEntries(job.plan.tasks.map((t) => [t.id, t.id === reduceId ? attempt : 0]));
  const restarted = new Task(
    {
      jobId: JOB,
      plan: job.plan,
      graph: job.graph,
      taskId: reduceId,
      attempt,
      attempts,
      restore: [snapshot],
      determinants,
      staleCheckpointsThrough: options.abort ?? checkpointId,
    },
    job.services
  );
  job.tasks.set(reduceId, restarted);
  let replayed = 0;
  const endpoint = job.transport.endpoint;
  for (const t of job.tasks.values()) {
    if (t === restarted || t.vertex.operatorIds[0] === 'sum') continue; // the other reduce task has no channel to it
    replayed += t.rewire({ [reduceId]: { attempt, endpoint } }, () => endpoint);
  }
  const run = restarted.run();
  run.catch(() => undefined);
  job.runs.set(restarted, run);
  job.out.release();
  return {
    job,
    reduceId,
    determinants,
    snapshot,
    replayed,
    old,
    restarted,
    outChannel,
    sinkHad,
    sinkRead,
  };
}

/** The job with a failure of reduce task `reduceId` after checkpoint 1 and the skewed flow, run to its end. */
async function runWithFailure(reduceId: string, options: FailureOptions = {}): Promise<Failover> {
  const job = startJob();
  await flow(job, PHASES.before);
  await checkpoint(job, 1);
  await flow(job, PHASES.after);
  await flowHeld(job, PHASES.held);
  const failover = await failTask(job, reduceId, options);
  await finish(job);
  return failover;
}

async function runWithoutFailure(): Promise<Job> {
  const job = startJob();
  await flow(job, PHASES.before);
  await checkpoint(job, 1);
  await flow(job, PHASES.after);
  await flowHeld(job, PHASES.held);
  await finish(job);
  return job;
}

/** The new attempt regenerated what the sink had taken from the dead one, record for record, from the checkpoint's sequence number. */
function expectRegenerated(f: Failover, attempt = 1, ended = true): void {
  const from = f.snapshot.outputs[f.outChannel];
  const frames = f.job.transport.channels.get(`${JOB}/${attempt}.0/${f.outChannel}`)!.sent;
  expect(frames[0].seq).toBe(from);
  const sent = recordsBySeq(frames);
  const regenerated = [...f.sinkRead.keys()].filter((seq) => seq >= from);
  expect(regenerated.length).toBeGreaterThan(0);
  for (const seq of regenerated) expect(sent.get(seq), `record ${seq}`).toEqual(f.sinkRead.get(seq));
  if (ended) expect(frames.at(-1)!.kind).toBe('end');
}

describe('single-task failover of a keyed reduce', () => {
  it('a run without failure gives the expected sums, one output per input record', async () => {
    const job = await runWithoutFailure();
    expect([...job.tasks.values()].map((t) => t.state)).toEqual(Array(job.tasks.size).fill('FINISHED'));
    expect(job.out.records).toHaveLength(N);
    expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
    expectExactlyOnce(job.out.records);
    expect(job.checkpoints.declined).toEqual([]);
  });

  for (const reduceId of ['sum#0', 'sum#1']) {
    it(`${reduceId} dies after checkpoint 1: its new attempt replays in the logged order and the sink gets exactly the records of a run without failure`, async () => {
      const baseline = await runWithoutFailure();
      const failover = await runWithFailure(reduceId);
      const { job, determinants, snapshot, replayed, restarted, outChannel, sinkHad, sinkRead } = failover;

      // The scenario: the reduce task died with part of its output not at the sink yet; the
      // sink held its log since checkpoint 1, with runs of both inputs.
      const sent = PHASES.held.at(-1)![1] + PHASES.held.at(-2)![1];
      expect(sinkHad).toBeLessThan(sent);
      expect(snapshot.checkpointId).toBe(1);
      expect(Math.max(...sinkRead.keys())).toBeGreaterThan(snapshot.outputs[outChannel]); // the sink had records sent after checkpoint 1
      expect(determinants.length).toBeGreaterThan(1);
      expect(determinants[0].n).toBe(snapshot.determinants! + 1);
      expect(new Set(determinants.filter((d) => d.kind === 'order').map((d) => d.input))).toEqual(new Set([0, 1]));
      expect(replayed).toBeGreaterThan(0); // the sources re-sent what they had sent since checkpoint 1

      // Every task finished, the other tasks without restarting.
      expect([...job.tasks.values()].map((t) => `${t.id}:${t.state}:${t.metrics().attempt}`).sort()).toEqual(
        job.plan.tasks.map((t) => `${t.id}:FINISHED:${t.id === reduceId ? 1 : 0}`).sort()
      );
      expect(job.checkpoints.declined).toEqual([]);

      // Exactly the results of a run without the failure: same final values, same number of
      // records (no duplicate, none lost), and each key's running sums consistent.
      expect(sorted(job.out.final())).toEqual(sorted(baseline.out.final()));
      expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
      expect(job.out.records).toHaveLength(baseline.out.records.length);
      expect(job.out.records).toHaveLength(N);
      expectExactlyOnce(job.out.records);

      // The rerun regenerated what the sink had taken from the dead attempt, record for record
      // (the sink dropped those as duplicates), then went on and ended its output.
      expectRegenerated(failover);
      const sent1 = recordsBySeq(job.transport.channels.get(`${JOB}/1.0/${outChannel}`)!.sent);
      expect(Math.max(...sent1.keys())).toBeGreaterThan(Math.max(...sinkRead.keys()));
      expect(restarted.metrics().recordsIn).toBeGreaterThan(0);
    });
  }

  it('the sink runs on while the new attempt is deployed: it reads nothing more of the dead attempt, whose log it handed over; still exactly once', async () => {
    const failover = await runWithFailure('sum#0', { sinkGoesOn: true });
    const { job } = failover;
    expectRegenerated(failover);
    expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
    expect(job.out.records).toHaveLength(N);
    expectExactlyOnce(job.out.records);
  });

  it('the same task dies twice: the second attempt restores checkpoint 2 (taken after the first recovery) and continues the log', async () => {
    const job = startJob();
    await flow(job, PHASES.before);
    await checkpoint(job, 1);
    await flow(job, PHASES.after);
    await flowHeld(job, PHASES.held);
    const first = await failTask(job, 'sum#1', { attempt: 1, checkpointId: 1 });
    // Recovered: everything sent so far reaches the sink, and the next checkpoint includes the new attempt.
    await job.out.reach(job.gate.allowed[0] + job.gate.allowed[1]);
    await checkpoint(job, 2);
    const s2 = job.checkpoints.of(2, 'sum#1');
    expect(s2.determinants!).toBeGreaterThan(first.snapshot.determinants!);
    await flow(job, [
      [0, 240],
      [1, 328],
    ]);
    await flowHeld(job, [
      [1, 360],
      [0, 272],
      [1, 376],
    ]);
    const second = await failTask(job, 'sum#1', {
      attempt: 2,
      checkpointId: 2,
    });
    await finish(job);

    expect(second.snapshot).toBe(s2);
    expect(second.determinants.length).toBeGreaterThan(0);
    expect(second.determinants[0].n).toBe(s2.determinants! + 1);
    expect(job.tasks.get('sum#1')!.metrics().attempt).toBe(2);
    expect([...job.tasks.values()].every((t) => t.state === 'FINISHED')).toBe(true);
    expect(job.checkpoints.declined).toEqual([]);
    expectRegenerated(first, 1, false); // it died too
    expectRegenerated(second, 2);
    expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
    expect(job.out.records).toHaveLength(N);
    expectExactlyOnce(job.out.records);
  });

  for (const aborted of [true, false]) {
    it(`a checkpoint not completed at the failure, ${
      aborted ? 'aborted: the replay skips its barriers' : 'not known to the new attempt: it declines it when its replay meets the barrier'
    }`, async () => {
      const job = startJob();
      await flow(job, PHASES.before);
      await checkpoint(job, 1);
      await flow(job, PHASES.after.slice(0, 2));
      // Checkpoint 2 is taken by every task but never completes.
      for (const t of job.tasks.values()) if (t.vertex.operatorIds[0] === 'src') t.triggerCheckpoint(2, 0);
      job.gate.wake();
      await job.checkpoints.done(2).promise;
      // Records after barrier 2 reach the sink, then more are under way when sum#0 dies.
      await flow(job, PHASES.after.slice(2));
      await flowHeld(job, PHASES.held);
      const failover = await failTask(job, 'sum#0', {
        attempt: 1,
        checkpointId: 1,
        abort: aborted ? 2 : undefined,
      });
      await finish(job);

      // The log the sink handed over spans barrier 2: the replay crossed it.
      const s2 = job.checkpoints.of(2, 'sum#0');
      expect(failover.snapshot.checkpointId).toBe(1);
      expect(failover.determinants[0].n).toBe(failover.snapshot.determinants! + 1);
      expect(failover.determinants.at(-1)!.n).toBeGreaterThan(s2.determinants!);
      expect(Math.max(...failover.sinkRead.keys())).toBeGreaterThanOrEqual(s2.outputs[failover.outChannel]);
      expect(job.checkpoints.declined).toEqual(aborted ? [] : ['sum#0:2:the task is replaying its determinant log after a recovery']);
      expect([...job.tasks.values()].every((t) => t.state === 'FINISHED')).toBe(true);
      expectRegenerated(failover);
      // The new attempt forwarded no barrier of the aborted checkpoint.
      expect(job.transport.channels.get(`${JOB}/1.0/${failover.outChannel}`)!.sent.some((f) => f.kind === 'barrier')).toBe(false);
      expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
      expect(job.out.records).toHaveLength(N);
      expectExactlyOnce(job.out.records);
    });
  }

  it('without the determinants the rerun takes its inputs in another order: the sink would get inconsistent records (what the log prevents)', async () => {
    const { job, snapshot, outChannel, sinkRead } = await runWithFailure('sum#0', { determinantsFor: () => [] });
    const sent1 = recordsBySeq(job.transport.channels.get(`${JOB}/1.0/${outChannel}`)!.sent);
    const regenerated = [...sinkRead.keys()].filter((seq) => seq >= snapshot.outputs[outChannel]);
    expect(regenerated.some((seq) => JSON.stringify(sent1.get(seq)) !== JSON.stringify(sinkRead.get(seq)))).toBe(true);
    // Final values and counts alone would not show it: the running sums the sink saw do.
    expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
    expect(() => expectExactlyOnce(job.out.records)).toThrow();
  });
});
