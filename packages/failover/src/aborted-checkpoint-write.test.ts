// A task's state write that is under way when its checkpoint is aborted (the timeout fired, the
// folder was discarded) must end as CHECKPOINT_ABORTED, not as a raw ENOENT. The race is made
// deterministic by running the abort at the one point where it used to break the write: just
// before the temporary file is renamed into the checkpoint folder. Everything else is real I/O.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckpointCoordinator } from './checkpoint-coordinator.js';
import { FsCheckpointStore } from './fs-checkpoint-store.js';
import { checkpointRejection, trackDiscards } from './test-helpers.js';

const hooks = vi.hoisted(() => ({ beforeRename: undefined as ((to: string) => Promise<void>) | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    rename: async (from: string, to: string): Promise<void> => {
      const hook = hooks.beforeRename;
      hooks.beforeRename = undefined;
      await hook?.(to);
      return actual.rename(from, to);
    },
  };
});

let dir: string;
let store: FsCheckpointStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mobius-aborted-write-'));
  store = new FsCheckpointStore({ directory: dir });
});

afterEach(async () => {
  hooks.beforeRename = undefined;
  vi.useRealTimers();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a state write into a checkpoint aborted meanwhile', () => {
  it('FsCheckpointStore.writeTaskState rejects with CHECKPOINT_ABORTED naming the checkpoint, and leaves no file', async () => {
    hooks.beforeRename = () => store.discard('job', 3);
    const e = await checkpointRejection(store.writeTaskState('job', 3, 'map#0', Uint8Array.of(1, 2, 3)));
    expect(e.code).toBe('CHECKPOINT_ABORTED');
    expect(e.message).toContain('checkpoint 3 of job "job" was aborted while task "map#0" wrote its state');
    expect(await readdir(join(dir, 'job'))).toEqual([]);
  });

  it('the coordinator times the checkpoint out during the write: the writer gets CHECKPOINT_ABORTED, the next checkpoint completes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { store: tracked, discards } = trackDiscards(store);
    const tasks = ['source#0', 'map#0'];
    const coordinator = new CheckpointCoordinator({ jobId: 'job', tasks, store: tracked, intervalMs: 0, timeoutMs: 50, trigger: () => {} });
    const ack = async (taskId: string, id: number): Promise<void> => {
      coordinator.acknowledge(taskId, id, await store.writeTaskState('job', id, taskId, Uint8Array.of(id)));
    };
    try {
      const first = checkpointRejection(coordinator.triggerCheckpoint());
      await ack('source#0', 1);
      // map#0's write is about to rename its file when the timeout fires and the folder goes.
      hooks.beforeRename = async () => {
        vi.advanceTimersByTime(50);
        await Promise.all(discards);
      };
      const late = await checkpointRejection(ack('map#0', 1));
      expect(late.code).toBe('CHECKPOINT_ABORTED');
      expect(late.message).toContain('checkpoint 1 of job "job" was aborted while task "map#0" wrote its state');
      expect((await first).code).toBe('CHECKPOINT_TIMEOUT');

      const second = coordinator.triggerCheckpoint();
      for (const t of tasks) await ack(t, 2);
      expect((await second).checkpointId).toBe(2);
      expect(await readdir(join(dir, 'job'))).toEqual(['chk-2']);
    } finally {
      await coordinator.stop();
    }
  });
});
