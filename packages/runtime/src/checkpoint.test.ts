import { makeFrame, silentLogger, type Barrier, type CheckpointListener, type LogicalGraph, type TaskSnapshot } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { describe, expect, it } from 'vitest';
import { InputGate } from './input-gate.js';
import { MemoryStateBackend } from './memory-state-backend.js';
import { Task } from './task.js';
import { channelPair, deferred, TestTransport } from './test-channels.js';
import { collection, edge, graph, node } from './test-graph.js';

const barrier = (checkpointId: number): Barrier => ({ checkpointId, timestamp: 0, type: 'checkpoint' });

describe('barrier alignment in the input gate', () => {
  it('holds a channel after its barrier until every open channel delivered it, then returns the barrier once', () => {
    const a = channelPair('a', 8);
    const b = channelPair('b', 8);
    const gate = new InputGate([a.receiver, b.receiver]);
    a.sender.trySend(makeFrame('a', 'data', 0, [1, 2]));
    a.sender.trySend(makeFrame('a', 'barrier', 2, null, barrier(1)));
    a.sender.trySend(makeFrame('a', 'data', 2, [3])); // after the barrier: must wait
    b.sender.trySend(makeFrame('b', 'data', 0, [10]));
    const seen: unknown[] = [];
    for (let f = gate.poll(); f !== undefined; f = gate.poll()) seen.push(f.kind === 'data' ? f.records : `barrier ${f.barrier!.checkpointId}`);
    expect(seen).toEqual([[1, 2], [10]]); // a's post-barrier record is held back
    b.sender.trySend(makeFrame('b', 'barrier', 1, null, barrier(1)));
    expect(gate.poll()?.barrier?.checkpointId).toBe(1);
    expect(gate.poll()?.records).toEqual([3]);
    expect(gate.lastSeq).toEqual([2, 0]);
  });

  it('counts an ended channel as aligned', () => {
    const a = channelPair('a', 8);
    const b = channelPair('b', 8);
    const gate = new InputGate([a.receiver, b.receiver]);
    a.sender.trySend(makeFrame('a', 'barrier', 0, null, barrier(4)));
    expect(gate.poll()).toBeUndefined();
    b.sender.trySend(makeFrame('b', 'end', 0, null));
    expect(gate.poll()?.barrier?.checkpointId).toBe(4);
    a.sender.trySend(makeFrame('a', 'end', 0, null));
    expect(gate.poll()).toBeUndefined();
    expect(gate.finished).toBe(true);
  });

  it('a newer barrier abandons an unfinished alignment, and a stale one is ignored', () => {
    const a = channelPair('a', 8);
    const b = channelPair('b', 8);
    const gate = new InputGate([a.receiver, b.receiver]);
    a.sender.trySend(makeFrame('a', 'barrier', 0, null, barrier(1)));
    expect(gate.poll()).toBeUndefined();
    b.sender.trySend(makeFrame('b', 'barrier', 0, null, barrier(2)));
    expect(gate.poll()).toBeUndefined(); // 2 is aligning now; a is free again
    a.sender.trySend(makeFrame('a', 'barrier', 0, null, barrier(2)));
    expect(gate.poll()?.barrier?.checkpointId).toBe(2);
    b.sender.trySend(makeFrame('b', 'barrier', 0, null, barrier(1)));
    b.sender.trySend(makeFrame('b', 'data', 0, [7]));
    expect(gate.poll()?.records).toEqual([7]);
  });
});

/** fromCollection(0..n) at p=2 → keyBy(x % 10) → reduce(sum) at p=2 → sink at p=1. */
function keyedSum(n: number, sink: (v: unknown) => void): LogicalGraph {
  const data = Array.from({ length: n }, (_, i) => i);
  return graph(
    [
      collection('src', data, { parallelism: 2 }),
      node('sum', 'reduce', { parallelism: 2, fn: (a: [number, number], b: [number, number]) => [a[0], a[1] + b[1]] }),
      node('out', 'sink', { parallelism: 1, fn: sink }),
      node('pairs', 'map', { parallelism: 2, fn: (x: number) => [x % 10, x] }),
    ],
    [edge('src', 'pairs'), edge('pairs', 'sum', 'key', { keySelector: (p: [number, number]) => p[0] }), edge('sum', 'out')],
    { 'runtime.batch.size': 16, 'runtime.channel.credits': 2 },
  );
}

function start(g: LogicalGraph, listener: CheckpointListener | undefined, restore?: readonly TaskSnapshot[], attempt = 0) {
  const plan = createPlan(g, 'ckpt');
  const transport = new TestTransport();
  const services = { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger: silentLogger, checkpoints: listener };
  const tasks = plan.tasks.map((t) => new Task({ jobId: `job-${attempt}`, plan, graph: g, taskId: t.id, attempt, restore }, services));
  return { tasks, done: Promise.all(tasks.map((t) => t.run())) };
}

describe('checkpoints through a job', () => {
  it('every task acknowledges a triggered checkpoint; a restore from it gives the same final values as an uninterrupted run', async () => {
    const n = 20_000;
    const expected = new Map<number, number>();
    for (let i = 0; i < n; i++) expected.set(i % 10, (expected.get(i % 10) ?? 0) + i);

    // First run: checkpoint 7 is taken while the job runs; keep its snapshots.
    const snapshots: TaskSnapshot[] = [];
    const allAcked = deferred<void>();
    let taskCount = 0;
    const listener: CheckpointListener = {
      acknowledge(s) {
        snapshots.push(s);
        if (snapshots.length === taskCount) allAcked.resolve();
      },
      decline(taskId, id, reason) {
        allAcked.reject(new Error(`${taskId} declined ${id}: ${reason}`));
      },
    };
    let seen = 0;
    let job: ReturnType<typeof start>;
    // eslint-disable-next-line prefer-const
    job = start(
      keyedSum(n, () => {
        if (++seen === 2000) for (const t of job.tasks) if (t.vertex.operatorIds[0] === 'src') t.triggerCheckpoint(7, Date.now());
      }),
      listener,
    );
    taskCount = job.tasks.length;
    await job.done;
    await allAcked.promise;
    expect(snapshots.map((s) => s.taskId).sort()).toEqual(job.tasks.map((t) => t.id).sort());
    expect(snapshots.every((s) => s.checkpointId === 7)).toBe(true);
    const sources = snapshots.filter((s) => s.taskId.startsWith('src#'));
    const offsets = sources.map((s) => s.source as number);
    expect(offsets.some((o) => o > 0)).toBe(true); // taken mid-run, not at the start
    const sums = snapshots.filter((s) => s.taskId.startsWith('sum#'));
    expect(sums.every((s) => s.operators.sum !== undefined)).toBe(true);

    // Second run restores checkpoint 7: state, source offsets and sequence numbers; the sink
    // keeps the last value per key. Final values must equal an uninterrupted run's.
    const last = new Map<number, number>();
    const restored = start(
      keyedSum(n, (v) => {
        const [k, sum] = v as [number, number];
        last.set(k, sum);
      }),
      undefined,
      snapshots,
      1,
    );
    await restored.done;
    expect([...last].sort((x, y) => x[0] - y[0])).toEqual([...expected].sort((x, y) => x[0] - y[0]));
    // The restored sources resumed where the checkpoint left them: they emitted only the rest.
    const emitted = restored.tasks.filter((t) => t.vertex.operatorIds[0] === 'src').reduce((s, t) => s + t.recordsIn, 0);
    expect(emitted).toBe(n - offsets.reduce((s, o, i) => s + (o - [0, n / 2][Number(sources[i].taskId.slice(-1))]), 0));
  });

  it('a task that is not a running source declines a trigger', async () => {
    const declined: string[] = [];
    const listener: CheckpointListener = { acknowledge() {}, decline: (taskId, id, reason) => declined.push(`${taskId}:${id}:${reason}`) };
    const job = start(keyedSum(10, () => {}), listener);
    const sum = job.tasks.find((t) => t.id.startsWith('sum#'))!;
    sum.triggerCheckpoint(3, 0);
    await job.done;
    job.tasks.find((t) => t.id.startsWith('src#'))!.triggerCheckpoint(4, 0);
    expect(declined).toEqual([`${sum.id}:3:not a source task`, 'src#0:4:task is FINISHED']);
  });
});
