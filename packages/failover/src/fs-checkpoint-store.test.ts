import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckpointMetadata } from '@mobius/interface';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsCheckpointStore, sanitiseName } from './fs-checkpoint-store.js';
import { RecordingLogger, checkpointRejection } from './test-helpers.js';

let dir: string;
let log: RecordingLogger;
let store: FsCheckpointStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mobius-fs-store-'));
  log = new RecordingLogger();
  store = new FsCheckpointStore({ directory: dir, logger: log });
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** Writes one state file per task and completes the checkpoint. */
async function checkpoint(jobId: string, checkpointId: number, tasks: readonly string[], savepoint = false): Promise<CheckpointMetadata> {
  const handles: Record<string, string> = {};
  for (const [i, task] of tasks.entries()) handles[task] = await store.writeTaskState(jobId, checkpointId, task, bytes(checkpointId, i));
  const metadata: CheckpointMetadata = { jobId, checkpointId, timestamp: 1000 + checkpointId, tasks: handles, savepoint };
  await store.complete(metadata);
  return metadata;
}

async function flipByte(path: string, offsetFromEnd = 1): Promise<void> {
  const b = await readFile(path);
  b[b.length - offsetFromEnd]! ^= 0x01;
  await writeFile(path, b);
}

/** Every file under a folder, recursively, relative to it. */
async function allFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1)).sort();
}


describe('FsCheckpointStore', () => {
  it('round-trips task state and metadata, in the documented layout', async () => {
    const m = await checkpoint('job-1', 3, ['map#0', 'sink#0']);
    expect(store.kind).toBe('fs');
    expect(m.tasks['map#0']).toBe('job-1/chk-3/map_230.state');
    expect(await store.readTaskState(m.tasks['map#0']!)).toEqual(bytes(3, 0));
    expect(await store.readTaskState(m.tasks['sink#0']!)).toEqual(bytes(3, 1));
    expect(await store.list('job-1')).toEqual([m]);
    expect(await allFiles(dir)).toEqual(['job-1/chk-3/_metadata.json', 'job-1/chk-3/map_230.state', 'job-1/chk-3/sink_230.state']);

    const file = await readFile(join(dir, 'job-1/chk-3/map_230.state'));
    expect(file.subarray(0, 4).toString('ascii')).toBe('MOBC');
    expect(file.readUInt32BE(4)).toBe(1);
    expect(file.readBigUInt64BE(8)).toBe(2n);
    expect(file.byteLength).toBe(48 + 2);

    const json = JSON.parse(await readFile(join(dir, 'job-1/chk-3/_metadata.json'), 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ jobId: 'job-1', checkpointId: 3, savepoint: false, version: 1 });
    expect(json.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('taskStateSize gives the payload bytes of a task file without reading it; a missing file is CHECKPOINT_CORRUPT', async () => {
    const payload = new Uint8Array(12_345).fill(7);
    const h = await store.writeTaskState('job', 1, 'task', payload);
    expect(await store.taskStateSize(h)).toBe(payload.byteLength);
    expect((await store.readTaskState(h)).byteLength).toBe(await store.taskStateSize(h));
    await rm(store.pathOf(h));
    expect((await checkpointRejection(store.taskStateSize(h))).code).toBe('CHECKPOINT_CORRUPT');
  });

  it('a second instance on the same folder (another machine on the mount) sees everything', async () => {
    const m = await checkpoint('job', 1, ['a']);
    const other = new FsCheckpointStore({ directory: dir });
    expect(await other.list('job')).toEqual([m]);
    expect(await other.readTaskState(m.tasks.a!)).toEqual(bytes(1, 0));
    expect(await other.latestValid('job')).toEqual(m);
  });

  it('writes atomically: no temporary files are left, and a rewrite replaces the file whole', async () => {
    const big = new Uint8Array(3 * 1024 * 1024).fill(7);
    const h = await store.writeTaskState('job', 1, 'task', big);
    const h2 = await store.writeTaskState('job', 1, 'task', bytes(1, 2, 3));
    expect(h2).toBe(h);
    await store.complete({ jobId: 'job', checkpointId: 1, timestamp: 1, tasks: { task: h }, savepoint: false });
    expect(await allFiles(dir)).toEqual(['job/chk-1/_metadata.json', 'job/chk-1/task.state']);
    expect(await store.readTaskState(h)).toEqual(bytes(1, 2, 3));
  });

  it('sanitises ids into distinct, safe file names', () => {
    const ids = ['a/b', 'a_b', 'a:b', '../x', '.', '..', '', 'ünï', 'x'.repeat(400), 'x'.repeat(401)];
    const names = ids.map(sanitiseName);
    expect(new Set(names).size).toBe(ids.length);
    for (const n of names) {
      expect(n).toMatch(/^[A-Za-z0-9._~-]+$/);
      expect(n).not.toBe('.');
      expect(n).not.toBe('..');
      expect(n.length).toBeLessThanOrEqual(160);
    }
    expect(sanitiseName('source-1.2')).toBe('source-1.2');
  });

  it('rejects handles that point outside the store', async () => {
    for (const handle of ['../etc/chk-1/passwd.state', '/abs/chk-1/x.state', 'job/chk-1/../../x.state', 'job/x.state', 'job/chk-1/x.bin']) {
      expect((await checkpointRejection(store.readTaskState(handle))).code, handle).toBe('CHECKPOINT_FAILED');
    }
  });

  it('a flipped byte in a task file: readTaskState throws CHECKPOINT_CORRUPT naming the file', async () => {
    const m = await checkpoint('job', 1, ['task']);
    const path = store.pathOf(m.tasks.task!);
    await flipByte(path);
    const e = await checkpointRejection(store.readTaskState(m.tasks.task!));
    expect(e.code).toBe('CHECKPOINT_CORRUPT');
    expect(e.message).toContain(path);
    expect(e.message).toContain('checksum');
  });

  it('bad magic, bad length, truncation and a missing file are CHECKPOINT_CORRUPT too', async () => {
    const m = await checkpoint('job', 1, ['a', 'b', 'c', 'd']);
    const path = (task: string): string => store.pathOf(m.tasks[task]!);
    const a = await readFile(path('a'));
    a[0] = 0x58; // 'X' instead of 'M'
    await writeFile(path('a'), a);
    await writeFile(path('b'), Buffer.concat([await readFile(path('b')), Buffer.of(0)])); // a byte too many
    await writeFile(path('c'), (await readFile(path('c'))).subarray(0, 20)); // header cut short
    await rm(path('d'));
    const expected: Record<string, string> = { a: 'bad magic', b: 'payload length', c: 'truncated', d: 'missing' };
    for (const [task, words] of Object.entries(expected)) {
      const e = await checkpointRejection(store.readTaskState(m.tasks[task]!));
      expect(e.code, task).toBe('CHECKPOINT_CORRUPT');
      expect(e.message, task).toContain(path(task));
      expect(e.message, task).toContain(words);
      expect(await store.verifyTaskState(m.tasks[task]!), task).toContain(words);
    }
  });

  it('lists completed checkpoints oldest first, ignoring folders without metadata', async () => {
    for (const id of [10, 9, 1, 100]) await checkpoint('job', id, ['t']);
    await store.writeTaskState('job', 101, 't', bytes(1)); // in progress: no metadata
    await mkdir(join(dir, 'job', 'not-a-checkpoint'));
    await writeFile(join(dir, 'job', 'chk-7'), 'a file, not a folder');
    expect((await store.list('job')).map((m) => m.checkpointId)).toEqual([1, 9, 10, 100]);
    expect(await store.list('other-job')).toEqual([]);
    expect(log.messages('warn')).toEqual([]);
  });

  it('ignores a checkpoint with corrupt metadata, with a warning', async () => {
    await checkpoint('job', 1, ['t']);
    await checkpoint('job', 2, ['t']);
    await checkpoint('job', 3, ['t']);
    const two = join(dir, 'job/chk-2/_metadata.json');
    await writeFile(two, (await readFile(two, 'utf8')).replace('"timestamp": 1002', '"timestamp": 1003'));
    await writeFile(join(dir, 'job/chk-3/_metadata.json'), '{"jobId": "job", "chec');
    expect((await store.list('job')).map((m) => m.checkpointId)).toEqual([1]);
    const warnings = log.messages('warn');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('checkpoint 2 of job job');
    expect(warnings[0]).toContain('sha256 checksum mismatch');
    expect(warnings[1]).toContain('not valid JSON');
  });

  it('discards a checkpoint folder', async () => {
    await checkpoint('job', 1, ['t']);
    await checkpoint('job', 2, ['t']);
    await store.discard('job', 1);
    expect(await readdir(join(dir, 'job'))).toEqual(['chk-2']);
    await store.discard('job', 1);
    await store.discard('nothing', 5);
  });

  it('latestValid returns the newest checkpoint whose metadata and task files verify', async () => {
    expect(await store.latestValid('job')).toBeUndefined();
    await checkpoint('job', 1, ['a', 'b']);
    const two = await checkpoint('job', 2, ['a', 'b']);
    await store.writeTaskState('job', 3, 'a', bytes(3)); // never completed
    expect(await store.latestValid('job')).toEqual(two);
    expect(log.messages('warn')).toEqual([]);
  });

  it('latestValid falls back to the previous checkpoint when the newest is corrupt, and says so', async () => {
    await checkpoint('job', 4, ['a', 'b']);
    const five = await checkpoint('job', 5, ['a', 'b']);
    const six = await checkpoint('job', 6, ['a', 'b']);
    await flipByte(store.pathOf(six.tasks.b!));
    expect(await store.latestValid('job')).toEqual(five);
    const warnings = log.messages('warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^checkpoint 6 of job job is corrupt \(.*checksum mismatch.*\); restoring checkpoint 5$/);
    expect(warnings[0]).toContain(store.pathOf(six.tasks.b!));
  });

  it('latestValid skips a corrupt metadata file and a missing task file, logging each', async () => {
    const one = await checkpoint('job', 1, ['a']);
    const two = await checkpoint('job', 2, ['a']);
    await checkpoint('job', 3, ['a']);
    await rm(store.pathOf(two.tasks.a!));
    await flipByte(join(dir, 'job/chk-3/_metadata.json'), 5);
    expect(await store.latestValid('job')).toEqual(one);
    const warnings = log.messages('warn');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^checkpoint 3 of job job is corrupt \(metadata: .*\); restoring checkpoint 1$/);
    expect(warnings[1]).toMatch(/^checkpoint 2 of job job is corrupt \(task a: .* is missing\); restoring checkpoint 1$/);
  });

  it('latestValid is undefined when every checkpoint is corrupt', async () => {
    const one = await checkpoint('job', 1, ['a']);
    await flipByte(store.pathOf(one.tasks.a!));
    expect(await store.latestValid('job')).toBeUndefined();
    expect(log.messages('warn')[0]).toMatch(/^checkpoint 1 of job job is corrupt .*; no valid checkpoint to restore$/);
  });

  it('keeps jobs with awkward ids in their own folders', async () => {
    const a = await checkpoint('team/job', 1, ['t']);
    const b = await checkpoint('team_job', 1, ['t']);
    expect(a.tasks.t).not.toBe(b.tasks.t);
    expect(await store.list('team/job')).toEqual([a]);
    expect(await store.list('team_job')).toEqual([b]);
    expect((await readdir(dir)).sort()).toEqual(['team_2fjob', 'team_5fjob']);
  });

  it('refuses to work once closed', async () => {
    await store.close();
    expect((await checkpointRejection(store.list('job'))).code).toBe('CHECKPOINT_FAILED');
  });
});
