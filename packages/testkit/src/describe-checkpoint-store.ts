import { CheckpointError, type CheckpointMetadata, type CheckpointStore } from '@mobius/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { prng, randomBytes } from './helpers.js';

/** How the checkpoint store suite makes, and gets rid of, the stores it tests. */
export interface CheckpointStoreSuiteFactory {
  /** A new, empty store (or one shared between tests: every test uses its own job ids). */
  create(): Promise<CheckpointStore> | CheckpointStore;
  /** Called after each test, once the stores it made are closed: remove folders, databases. */
  cleanup?(): Promise<void>;
  /**
   * Flips bytes of the stored task state a handle names (in the store most recently created).
   * Without it, the corruption test is skipped.
   */
  corrupt?(handle: string): Promise<void>;
}

/** Knobs of the checkpoint store suite. */
export interface CheckpointStoreSuiteOptions {
  /** Size of the large payload of the round-trip test. Default 8 MiB. */
  readonly largeBytes?: number;
  /** Timeout of each test, ms. Default 30,000. */
  readonly testTimeoutMs?: number;
}

let suiteCounter = 0;

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function expectBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  expect(actual, `${what}: a Uint8Array`).toBeInstanceOf(Uint8Array);
  expect(actual.byteLength, `${what}: length`).toBe(expected.byteLength);
  expect(bytesEqual(actual, expected), `${what}: same bytes`).toBe(true);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/**
 * Defines a vitest `describe` block with the tests every Mobius checkpoint store must pass:
 * byte-exact round trips (large payloads included), handles distinct per job, checkpoint and
 * task, completed checkpoints listed oldest first, discard, isolation of jobs, and detection
 * of corrupt task state when the factory can corrupt it.
 *
 * ```ts
 * describeCheckpointStore('my-store', { create: () => new MyStore(dir), cleanup: () => rm(dir) });
 * ```
 */
export function describeCheckpointStore(name: string, factory: CheckpointStoreSuiteFactory, options: CheckpointStoreSuiteOptions = {}): void {
  const largeBytes = options.largeBytes ?? 8 * 1024 * 1024;
  const timeout = options.testTimeoutMs ?? 30_000;
  const suite = ++suiteCounter;

  describe(`checkpoint store compliance: ${name}`, () => {
    const live: CheckpointStore[] = [];
    let jobCounter = 0;
    /** A fresh job id per use, so tests sharing a store never see each other's checkpoints. */
    const job = (label: string): string => `compliance-${suite}-${process.pid}-${label}-${++jobCounter}`;

    async function store(): Promise<CheckpointStore> {
      const s = await factory.create();
      live.push(s);
      return s;
    }

    const meta = (jobId: string, checkpointId: number, tasks: Record<string, string>, savepoint = false): CheckpointMetadata => ({
      jobId,
      checkpointId,
      timestamp: 1_700_000_000_000 + checkpointId,
      tasks,
      savepoint,
    });

    afterEach(async () => {
      for (const s of live.splice(0)) await s.close();
      await factory.cleanup?.();
    });

    it(
      'has a kind',
      async () => {
        const s = await store();
        expect(typeof s.kind).toBe('string');
        expect(s.kind.length).toBeGreaterThan(0);
      },
      timeout,
    );

    it(
      'reads back exactly the bytes written (empty, small, every byte value, large)',
      async () => {
        const s = await store();
        const jobId = job('round-trip');
        const allBytes = new Uint8Array(256).map((_, i) => i);
        const large = randomBytes(prng(suite), largeBytes);
        const cases: [string, Uint8Array][] = [
          ['empty', new Uint8Array(0)],
          ['one byte', Uint8Array.of(42)],
          ['every byte value', allBytes],
          ['large', large],
          ['view into a larger buffer', new Uint8Array(allBytes.buffer, 10, 20)],
        ];
        const handles: string[] = [];
        for (const [i, [label, data]] of cases.entries()) {
          const handle = await s.writeTaskState(jobId, 1, `task-${i}`, data);
          expect(typeof handle, `handle of ${label}`).toBe('string');
          handles.push(handle);
        }
        for (const [i, [label, data]] of cases.entries()) expectBytes(await s.readTaskState(handles[i]!), data, label);
      },
      timeout,
    );

    it(
      'keeps its own copy: changing the written buffer afterwards changes nothing',
      async () => {
        const s = await store();
        const jobId = job('copy');
        const data = Uint8Array.of(1, 2, 3, 4);
        const handle = await s.writeTaskState(jobId, 1, 'task', data);
        data.fill(9);
        expectBytes(await s.readTaskState(handle), Uint8Array.of(1, 2, 3, 4), 'state after the caller reused its buffer');
        const read = await s.readTaskState(handle);
        read.fill(7);
        expectBytes(await s.readTaskState(handle), Uint8Array.of(1, 2, 3, 4), 'state after the reader changed its copy');
      },
      timeout,
    );

    it(
      'gives distinct handles per task and per checkpoint, each reading back its own state',
      async () => {
        const s = await store();
        const jobId = job('handles');
        // Awkward task ids: separators, characters that look alike once made safe, unicode.
        const tasks = ['map#0', 'map#1', 'a/b', 'a_b', 'a:b', 'A', 'a', '..', 'sink ✓', 'x'.repeat(300)];
        const written = new Map<string, Uint8Array>();
        for (const checkpointId of [1, 2]) {
          for (const [i, taskId] of tasks.entries()) {
            const data = new TextEncoder().encode(`${checkpointId}/${i}/${taskId}`);
            written.set(await s.writeTaskState(jobId, checkpointId, taskId, data), data);
          }
        }
        expect(written.size, 'one distinct handle per (checkpoint, task)').toBe(tasks.length * 2);
        for (const [handle, data] of written) expectBytes(await s.readTaskState(handle), data, `state under ${handle}`);
      },
      timeout,
    );

    it(
      'lists completed checkpoints oldest first (numerically), with their metadata',
      async () => {
        const s = await store();
        const jobId = job('list');
        expect(await s.list(jobId), 'a job without checkpoints').toEqual([]);
        const completed: CheckpointMetadata[] = [];
        for (const checkpointId of [10, 2, 9, 11]) {
          const a = await s.writeTaskState(jobId, checkpointId, 'a', Uint8Array.of(checkpointId));
          const b = await s.writeTaskState(jobId, checkpointId, 'b', Uint8Array.of(checkpointId, 1));
          const m = meta(jobId, checkpointId, { a, b }, checkpointId === 9);
          await s.complete(m);
          completed.push(m);
        }
        // Written but never completed: not listed.
        await s.writeTaskState(jobId, 12, 'a', Uint8Array.of(12));
        const listed = await s.list(jobId);
        expect(listed.map((m) => m.checkpointId)).toEqual([2, 9, 10, 11]);
        for (const m of listed) expect(m).toEqual(completed.find((c) => c.checkpointId === m.checkpointId));
        for (const m of listed) expectBytes(await s.readTaskState(m.tasks.b!), Uint8Array.of(m.checkpointId, 1), `task b of checkpoint ${m.checkpointId}`);
      },
      timeout,
    );

    it(
      'discards a checkpoint: gone from the list, its state unreadable, the others intact',
      async () => {
        const s = await store();
        const jobId = job('discard');
        const handles: string[] = [];
        for (const checkpointId of [1, 2, 3]) {
          const h = await s.writeTaskState(jobId, checkpointId, 'task', Uint8Array.of(checkpointId));
          handles.push(h);
          await s.complete(meta(jobId, checkpointId, { task: h }));
        }
        await s.discard(jobId, 2);
        expect((await s.list(jobId)).map((m) => m.checkpointId)).toEqual([1, 3]);
        const e = await rejection(s.readTaskState(handles[1]!));
        expect(e, 'reading discarded state rejects with a CheckpointError').toBeInstanceOf(CheckpointError);
        expectBytes(await s.readTaskState(handles[0]!), Uint8Array.of(1), 'checkpoint 1');
        expectBytes(await s.readTaskState(handles[2]!), Uint8Array.of(3), 'checkpoint 3');
        // Discarding what does not exist (never written, or already discarded) is harmless.
        await s.discard(jobId, 2);
        await s.discard(jobId, 99);
        await s.discard(job('never-used'), 1);
        // A checkpoint that was written but never completed (aborted) can be discarded too.
        await s.writeTaskState(jobId, 4, 'task', Uint8Array.of(4));
        await s.discard(jobId, 4);
        expect((await s.list(jobId)).map((m) => m.checkpointId)).toEqual([1, 3]);
      },
      timeout,
    );

    it(
      'keeps jobs apart: same checkpoint and task ids, separate state, lists and discards',
      async () => {
        const s = await store();
        const jobA = job('isolated-a');
        const jobB = job('isolated-b');
        const a = await s.writeTaskState(jobA, 1, 'task', Uint8Array.of(0xa));
        const b = await s.writeTaskState(jobB, 1, 'task', Uint8Array.of(0xb));
        expect(a).not.toBe(b);
        await s.complete(meta(jobA, 1, { task: a }));
        await s.complete(meta(jobB, 1, { task: b }, true));
        expect(await s.list(jobA)).toEqual([meta(jobA, 1, { task: a })]);
        expect(await s.list(jobB)).toEqual([meta(jobB, 1, { task: b }, true)]);
        await s.discard(jobA, 1);
        expect(await s.list(jobA)).toEqual([]);
        expect(await s.list(jobB)).toEqual([meta(jobB, 1, { task: b }, true)]);
        expectBytes(await s.readTaskState(b), Uint8Array.of(0xb), 'state of the other job');
      },
      timeout,
    );

    it(
      'latestValid is the newest completed checkpoint; undefined for a job without one',
      async () => {
        const s = await store();
        const jobId = job('latest');
        expect(await s.latestValid(jobId)).toBeUndefined();
        const h1 = await s.writeTaskState(jobId, 1, 'task', Uint8Array.of(1));
        await s.complete(meta(jobId, 1, { task: h1 }));
        const h2 = await s.writeTaskState(jobId, 2, 'task', Uint8Array.of(2));
        await s.complete(meta(jobId, 2, { task: h2 }));
        // Written but never completed: not a checkpoint to restore.
        await s.writeTaskState(jobId, 3, 'task', Uint8Array.of(3));
        expect(await s.latestValid(jobId)).toEqual(meta(jobId, 2, { task: h2 }));
        await s.discard(jobId, 2);
        expect(await s.latestValid(jobId)).toEqual(meta(jobId, 1, { task: h1 }));
      },
      timeout,
    );

    it(
      'checkpointDirectory names each checkpoint of each job apart',
      async () => {
        const s = await store();
        const a = job('dir-a');
        const b = job('dir-b');
        const names = [s.checkpointDirectory(a, 1), s.checkpointDirectory(a, 2), s.checkpointDirectory(b, 1)];
        for (const n of names) expect(typeof n === 'string' && n.length > 0).toBe(true);
        expect(new Set(names).size).toBe(3);
        expect(s.checkpointDirectory(a, 1)).toBe(s.checkpointDirectory(a, 1));
      },
      timeout,
    );

    it(
      'detects corrupt task state: readTaskState rejects with CHECKPOINT_CORRUPT',
      async (ctx) => {
        const corrupt = factory.corrupt;
        if (corrupt === undefined) {
          ctx.skip('the factory has no corrupt(handle): this store cannot have its stored bytes flipped');
          return;
        }
        const s = await store();
        const jobId = job('corrupt');
        const h = await s.writeTaskState(jobId, 1, 'task', randomBytes(prng(7), 4096));
        const intact = await s.writeTaskState(jobId, 1, 'other', Uint8Array.of(1, 2, 3));
        await corrupt(h);
        const e = await rejection(s.readTaskState(h));
        expect(e, 'a CheckpointError').toBeInstanceOf(CheckpointError);
        expect((e as CheckpointError).code).toBe('CHECKPOINT_CORRUPT');
        expectBytes(await s.readTaskState(intact), Uint8Array.of(1, 2, 3), 'the task state that was not corrupted');
      },
      timeout,
    );
  });
}
