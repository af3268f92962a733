import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckpointMetadata, CheckpointStore } from '@mobius/interface';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckpointCoordinator, type CheckpointCoordinatorOptions } from './checkpoint-coordinator.js';
import { FsCheckpointStore } from './fs-checkpoint-store.js';
import { RecordingLogger, checkpointRejection, deferred, trackDiscards } from './test-helpers.js';

const TASKS = ['source#0', 'map#0', 'map#1', 'sink#0'] as const;

let dir: string;
let store: FsCheckpointStore;
let log: RecordingLogger;
const coordinators: CheckpointCoordinator[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mobius-coordinator-'));
  store = new FsCheckpointStore({ directory: dir });
  log = new RecordingLogger();
});

afterEach(async () => {
  vi.useRealTimers();
  for (const c of coordinators.splice(0)) await c.stop();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

interface Harness {
  readonly coordinator: CheckpointCoordinator;
  readonly triggers: { checkpointId: number; timestamp: number; savepoint: boolean }[];
  readonly completed: number[];
  readonly aborted: [number, string][];
  /** Resolves at the next notifyComplete. */
  nextComplete(): Promise<number>;
  /** The task writes its state and acknowledges. */
  ack(taskId: string, checkpointId: number): Promise<string>;
  /** Every task (in the given order) writes and acknowledges. */
  ackAll(checkpointId: number, order?: readonly string[]): Promise<void>;
}

function harness(options: Partial<CheckpointCoordinatorOptions> = {}): Harness {
  const triggers: Harness['triggers'] = [];
  const completed: number[] = [];
  const aborted: [number, string][] = [];
  let waiting = deferred<number>();
  const coordinator = new CheckpointCoordinator({
    jobId: 'job',
    tasks: TASKS,
    store,
    intervalMs: 0,
    timeoutMs: 10_000,
    logger: log,
    trigger: (checkpointId, timestamp, savepoint) => triggers.push({ checkpointId, timestamp, savepoint }),
    notifyComplete: (id) => {
      completed.push(id);
      const w = waiting;
      waiting = deferred<number>();
      w.resolve(id);
    },
    notifyAborted: (id, reason) => aborted.push([id, reason]),
    ...options,
  });
  coordinators.push(coordinator);
  const s = options.store ?? store;
  const ack = async (taskId: string, checkpointId: number): Promise<string> => {
    const handle = await s.writeTaskState('job', checkpointId, taskId, new TextEncoder().encode(`${taskId}@${checkpointId}`));
    coordinator.acknowledge(taskId, checkpointId, handle);
    return handle;
  };
  return {
    coordinator,
    triggers,
    completed,
    aborted,
    nextComplete: () => waiting.promise,
    ack,
    async ackAll(checkpointId, order = TASKS) {
      for (const t of order) await ack(t, checkpointId);
    },
  };
}


/** Lets pending I/O and promise reactions run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('CheckpointCoordinator', () => {
  it('runs the whole protocol: trigger, acks of every task, durable metadata, notify', async () => {
    const h = harness();
    const done = h.coordinator.triggerCheckpoint();
    expect(h.triggers).toHaveLength(1);
    expect(h.triggers[0]).toMatchObject({ checkpointId: 1, savepoint: false });
    expect(h.coordinator.stats().pendingId).toBe(1);
    const handles: Record<string, string> = {};
    for (const t of TASKS) handles[t] = await h.ack(t, 1);
    const metadata = await done;
    expect(metadata).toEqual({ jobId: 'job', checkpointId: 1, timestamp: h.triggers[0]!.timestamp, tasks: handles, savepoint: false });
    expect(await store.list('job')).toEqual([metadata]);
    expect(await store.latestValid('job')).toEqual(metadata);
    expect(h.completed).toEqual([1]);
    expect(h.coordinator.latestCompleted()).toEqual(metadata);
    const stats = h.coordinator.stats();
    expect(stats).toMatchObject({ triggered: 1, completed: 1, aborted: 0, lastCompletedId: 1, pendingId: undefined });
    expect(stats.lastDurationMs).toBeGreaterThanOrEqual(0);
    // Each task's state reads back from the handle it acknowledged.
    expect(new TextDecoder().decode(await store.readTaskState(metadata.tasks['map#1']!))).toBe('map#1@1');
  });

  it('completes only on the last ack, whatever the order of the acks', async () => {
    const h = harness();
    const orders = [[...TASKS], [...TASKS].reverse(), ['map#1', 'sink#0', 'source#0', 'map#0']];
    for (const [i, order] of orders.entries()) {
      const id = i + 1;
      const done = h.coordinator.triggerCheckpoint();
      for (const t of order.slice(0, -1)) await h.ack(t, id);
      await settle();
      expect(h.completed, `checkpoint ${id} before its last ack`).toEqual(orders.slice(0, i).map((_, j) => j + 1));
      expect(h.coordinator.stats().pendingId).toBe(id);
      await h.ack(order.at(-1)!, id);
      expect((await done).checkpointId).toBe(id);
    }
    expect((await store.list('job')).map((m) => m.checkpointId)).toEqual([2, 3]);
  });

  it('ignores duplicate acks, acks of unknown tasks and acks of ids not in flight', async () => {
    const h = harness();
    const done = h.coordinator.triggerCheckpoint();
    const first = await h.ack('map#0', 1);
    h.coordinator.acknowledge('map#0', 1, 'job/chk-1/somewhere-else.state');
    await h.ack('map#0', 1); // same task again
    h.coordinator.acknowledge('stranger#0', 1, 'x');
    h.coordinator.acknowledge('map#1', 0, 'x');
    h.coordinator.acknowledge('map#1', 7, 'x');
    await h.ack('source#0', 1);
    await h.ack('sink#0', 1);
    await settle();
    expect(h.completed, 'three of four tasks acked, some several times').toEqual([]);
    await h.ack('map#1', 1);
    const metadata = await done;
    expect(metadata.tasks['map#0']).toBe(first);
    const debug = log.messages('debug');
    expect(debug.filter((m) => m.includes('duplicate ack of task map#0'))).toHaveLength(2);
    expect(debug.some((m) => m.includes('unknown task stranger#0'))).toBe(true);
    expect(debug.some((m) => m.includes('task map#1 for checkpoint 0: not in flight'))).toBe(true);
    expect(debug.some((m) => m.includes('task map#1 for checkpoint 7: not in flight'))).toBe(true);
    // After completion, a late duplicate changes nothing.
    h.coordinator.acknowledge('map#0', 1, 'late');
    expect(h.coordinator.stats().completed).toBe(1);
  });

  it('aborts a checkpoint on timeout; the next one gets a new id and late acks are ignored', async () => {
    // Fake timeouts: the 50 ms timer fires when the test says, never because the disk was slow.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { store: tracked, discards } = trackDiscards(store);
    const h = harness({ timeoutMs: 50, store: tracked });
    const first = checkpointRejection(h.coordinator.triggerCheckpoint());
    await h.ack('source#0', 1);
    await h.ack('map#0', 1);
    vi.advanceTimersByTime(49);
    expect(h.coordinator.stats().pendingId).toBe(1);
    vi.advanceTimersByTime(1);
    const e = await first;
    expect(e.code).toBe('CHECKPOINT_TIMEOUT');
    expect(e.message).toContain('timeout after 50 ms');
    expect(h.aborted).toEqual([[1, 'timeout after 50 ms']]);
    expect(h.coordinator.stats()).toMatchObject({ triggered: 1, completed: 0, aborted: 1, pendingId: undefined });
    expect(log.messages('warn').some((m) => m.includes('checkpoint 1 of job job aborted: timeout after 50 ms'))).toBe(true);
    await Promise.all(discards);
    expect(await readdir(join(dir, 'job')), 'the partial data of the aborted checkpoint').toEqual([]);

    const second = h.coordinator.triggerCheckpoint();
    expect(h.triggers.map((t) => t.checkpointId)).toEqual([1, 2]);
    // A late task writes after the discard (its folder comes back) and acks: the ack is ignored.
    await h.ack('map#1', 1);
    expect(await readdir(join(dir, 'job'))).toEqual(['chk-1']);
    expect(log.messages('debug').some((m) => m.includes('task map#1 for checkpoint 1: not in flight'))).toBe(true);
    await h.ackAll(2);
    expect((await second).checkpointId).toBe(2);
    expect(h.completed).toEqual([2]);
    // The next completion removes what the late write left.
    expect(await readdir(join(dir, 'job'))).toEqual(['chk-2']);
  });

  it('abort(reason) ends the checkpoint in flight (a task failed), and declines do too', async () => {
    const h = harness();
    const first = h.coordinator.triggerCheckpoint();
    await h.ack('source#0', 1);
    expect(h.coordinator.abort('task map#0 failed')).toBe(true);
    expect(h.coordinator.abort('again')).toBe(false);
    const e = await checkpointRejection(first);
    expect(e.code).toBe('CHECKPOINT_ABORTED');
    expect(e.message).toContain('task map#0 failed');
    expect(h.aborted).toEqual([[1, 'task map#0 failed']]);

    const second = h.coordinator.triggerCheckpoint();
    h.coordinator.decline('map#1', 1, 'stale'); // not in flight: ignored
    h.coordinator.decline('map#1', 2, 'out of disk');
    expect((await checkpointRejection(second)).code).toBe('CHECKPOINT_ABORTED');
    expect(h.aborted[1]).toEqual([2, 'task map#1 declined: out of disk']);

    const third = h.coordinator.triggerCheckpoint();
    await h.ackAll(3);
    expect((await third).checkpointId).toBe(3);
    expect(h.coordinator.stats()).toMatchObject({ triggered: 3, completed: 1, aborted: 2, lastCompletedId: 3 });
    expect(h.coordinator.abort('nothing in flight')).toBe(false);
  });

  it('keeps the newest `retained` checkpoints and every savepoint', async () => {
    const h = harness({ retained: 2 });
    const savepoints = new Set([2, 5]);
    for (let id = 1; id <= 7; id++) {
      const done = savepoints.has(id) ? h.coordinator.triggerSavepoint() : h.coordinator.triggerCheckpoint();
      await h.ackAll(id);
      expect((await done).savepoint).toBe(savepoints.has(id));
    }
    const listed = await store.list('job');
    expect(listed.map((m) => m.checkpointId)).toEqual([2, 5, 6, 7]);
    expect(listed.map((m) => m.savepoint)).toEqual([true, true, false, false]);
    expect((await readdir(join(dir, 'job'))).sort()).toEqual(['chk-2', 'chk-5', 'chk-6', 'chk-7']);
  });

  it('retention also removes older checkpoints a previous run left (after a restore)', async () => {
    const before = harness({ retained: 3 });
    for (let id = 1; id <= 3; id++) {
      const done = before.coordinator.triggerCheckpoint();
      await before.ackAll(id);
      await done;
    }
    await before.coordinator.stop();
    const after = harness({ retained: 1, firstCheckpointId: 4 });
    const done = after.coordinator.triggerCheckpoint();
    expect(after.triggers[0]!.checkpointId).toBe(4);
    await after.ackAll(4);
    await done;
    expect((await store.list('job')).map((m) => m.checkpointId)).toEqual([4]);
  });

  it('a savepoint waits for the checkpoint in flight, then completes on its own id', async () => {
    const h = harness();
    const checkpoint = h.coordinator.triggerCheckpoint();
    const savepoint = h.coordinator.triggerSavepoint();
    await settle();
    expect(h.triggers).toHaveLength(1);
    await h.ackAll(1);
    expect((await checkpoint).checkpointId).toBe(1);
    expect(h.triggers[1]).toMatchObject({ checkpointId: 2, savepoint: true });
    await h.ackAll(2);
    const metadata = await savepoint;
    expect(metadata).toMatchObject({ checkpointId: 2, savepoint: true });
    expect((await store.list('job')).at(-1)).toEqual(metadata);
  });

  it('a savepoint still runs when the checkpoint before it is aborted', async () => {
    const h = harness();
    const checkpoint = h.coordinator.triggerCheckpoint();
    const savepoint = h.coordinator.triggerSavepoint();
    h.coordinator.abort('task sink#0 failed');
    expect((await checkpointRejection(checkpoint)).code).toBe('CHECKPOINT_ABORTED');
    expect(h.triggers[1]).toMatchObject({ checkpointId: 2, savepoint: true });
    await h.ackAll(2);
    expect((await savepoint).checkpointId).toBe(2);
  });

  it('triggers periodically, one checkpoint in flight at a time (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const h = harness({ intervalMs: 1000 });
    h.coordinator.start();
    h.coordinator.start(); // idempotent
    expect(h.triggers).toHaveLength(0);
    vi.advanceTimersByTime(1000);
    expect(h.triggers.map((t) => t.checkpointId)).toEqual([1]);
    vi.advanceTimersByTime(3000); // three more periods while 1 is in flight: skipped
    expect(h.triggers.map((t) => t.checkpointId)).toEqual([1]);
    expect(log.messages('debug').filter((m) => m.startsWith('periodic checkpoint skipped'))).toHaveLength(3);
    const completed = h.nextComplete();
    await h.ackAll(1);
    expect(await completed).toBe(1);
    await vi.waitFor(() => expect(h.coordinator.stats().pendingId).toBeUndefined());
    vi.advanceTimersByTime(1000);
    expect(h.triggers.map((t) => t.checkpointId)).toEqual([1, 2]);
    const pending = h.coordinator.stop();
    vi.advanceTimersByTime(5000);
    await pending;
    expect(h.triggers.map((t) => t.checkpointId)).toEqual([1, 2]);
    expect(h.aborted).toEqual([[2, 'coordinator stopped']]);
  });

  it('intervalMs 0 never triggers on its own', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const h = harness({ intervalMs: 0 });
    h.coordinator.start();
    vi.advanceTimersByTime(60_000);
    expect(h.triggers).toHaveLength(0);
  });

  it('stop() rejects the waiters with CHECKPOINT_ABORTED and refuses new requests', async () => {
    const h = harness();
    const inFlight = h.coordinator.triggerCheckpoint();
    const queued = h.coordinator.triggerSavepoint();
    await h.coordinator.stop();
    expect((await checkpointRejection(inFlight)).code).toBe('CHECKPOINT_ABORTED');
    expect((await checkpointRejection(queued)).code).toBe('CHECKPOINT_ABORTED');
    expect((await checkpointRejection(h.coordinator.triggerSavepoint())).code).toBe('CHECKPOINT_ABORTED');
    h.coordinator.acknowledge('map#0', 1, 'x');
    expect(h.coordinator.stats()).toMatchObject({ triggered: 1, completed: 0, aborted: 1 });
    expect(h.triggers).toHaveLength(1);
  });

  it('stop() lets a checkpoint whose metadata is being written finish', async () => {
    const gate = deferred();
    const slow: CheckpointStore = Object.assign(Object.create(store) as CheckpointStore, {
      complete: async (m: CheckpointMetadata) => {
        await gate.promise;
        await store.complete(m);
      },
    });
    const h = harness({ store: slow });
    const done = h.coordinator.triggerCheckpoint();
    await h.ackAll(1);
    const stopped = h.coordinator.stop();
    gate.resolve();
    await stopped;
    expect((await done).checkpointId).toBe(1);
    expect(h.completed).toEqual([1]);
  });

  it('a failing store aborts the checkpoint with CHECKPOINT_FAILED; the next id is new', async () => {
    let fail = true;
    const flaky: CheckpointStore = Object.assign(Object.create(store) as CheckpointStore, {
      complete: async (m: CheckpointMetadata) => {
        if (fail) throw new Error('disk full');
        await store.complete(m);
      },
    });
    const h = harness({ store: flaky });
    const first = h.coordinator.triggerCheckpoint();
    await h.ackAll(1);
    const e = await checkpointRejection(first);
    expect(e.code).toBe('CHECKPOINT_FAILED');
    expect(e.message).toContain('disk full');
    expect(h.aborted).toEqual([[1, 'store failed: disk full']]);
    fail = false;
    const second = h.coordinator.triggerCheckpoint();
    await h.ackAll(2);
    expect((await second).checkpointId).toBe(2);
  });

  it('a throwing trigger fails the checkpoint; throwing callbacks are logged, not fatal', async () => {
    let throwing = true;
    const h = harness({
      trigger: () => {
        if (throwing) throw new Error('no sources');
      },
      notifyComplete: () => {
        throw new Error('notify broke');
      },
    });
    const e = await checkpointRejection(h.coordinator.triggerCheckpoint());
    expect(e.code).toBe('CHECKPOINT_FAILED');
    expect(e.message).toContain('no sources');
    throwing = false;
    const done = h.coordinator.triggerCheckpoint();
    await h.ackAll(2);
    expect((await done).checkpointId).toBe(2);
    expect(log.messages('error').some((m) => m.includes('notify broke'))).toBe(true);
  });

  it('starts from firstCheckpointId and validates its options', () => {
    const h = harness({ firstCheckpointId: 42 });
    void h.coordinator.triggerCheckpoint().catch(() => {});
    expect(h.triggers[0]!.checkpointId).toBe(42);
    expect(() => harness({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => harness({ intervalMs: -1 })).toThrow(/intervalMs/);
    expect(() => harness({ retained: 0 })).toThrow(/retained/);
  });
});
