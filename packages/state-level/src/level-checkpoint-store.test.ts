import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, type CheckpointMetadata, type Logger } from '@mobius/interface';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelCheckpointStore } from './index.js';

interface LogLine {
  readonly level: string;
  readonly obj: object;
  readonly msg: string | undefined;
}

/** A logger that keeps every line (children share the list). */
function recordingLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const make = (): Logger & { lines: LogLine[] } => ({
    lines,
    debug: (obj, msg) => void lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
    child: () => make(),
  });
  return make();
}

const meta = (jobId: string, checkpointId: number, tasks: Record<string, string>, savepoint = false): CheckpointMetadata => ({
  jobId,
  checkpointId,
  timestamp: 1_700_000_000_000 + checkpointId,
  tasks,
  savepoint,
});

async function rejection(promise: Promise<unknown>): Promise<CheckpointError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Every key of the database, read with a second handle (the store must be closed). */
async function rawKeys(directory: string): Promise<string[]> {
  const db = new Level<string, Buffer>(directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  try {
    return await db.keys().all();
  } finally {
    await db.close();
  }
}

/** Changes the database with a second handle (the store must be closed). */
async function withRawDb(directory: string, fn: (db: Level<string, Buffer>) => Promise<void>): Promise<void> {
  const db = new Level<string, Buffer>(directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

describe('LevelCheckpointStore', () => {
  let directory: string;
  const open: LevelCheckpointStore[] = [];

  function store(logger?: Logger): LevelCheckpointStore {
    const s = new LevelCheckpointStore({ directory, logger });
    open.push(s);
    return s;
  }

  /** Writes and completes a checkpoint with tasks a and b; returns its metadata. */
  async function checkpoint(s: LevelCheckpointStore, jobId: string, checkpointId: number): Promise<CheckpointMetadata> {
    const a = await s.writeTaskState(jobId, checkpointId, 'a', Uint8Array.of(checkpointId, 0xa));
    const b = await s.writeTaskState(jobId, checkpointId, 'b', Uint8Array.of(checkpointId, 0xb));
    const m = meta(jobId, checkpointId, { a, b });
    await s.complete(m);
    return m;
  }

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'mobius-level-checkpoint-'));
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('has kind level and handles of the form level:<jobId>/<id>/<taskId>, URL-encoded', async () => {
    const s = store();
    expect(s.kind).toBe('level');
    const h = await s.writeTaskState('job/1', 3, 'map#0', Uint8Array.of(1));
    expect(h).toBe('level:job%2F1/3/map%230');
    expect(s.parseHandle(h)).toEqual({ jobId: 'job/1', checkpointId: 3, taskId: 'map#0' });
    expect(Array.from(await s.readTaskState(h))).toEqual([1]);
  });

  it('refuses handles that are not its own with CHECKPOINT_FAILED', async () => {
    const s = store();
    for (const bad of ['job/chk-1/a.state', 'level:a/1', 'level:a/01/t', 'level:a/x/t', 'level:a/1/t/u', 'level:%E0%A4%A/1/t', 'level:a%2f/1/t', 'level:a/1000000000000/t']) {
      expect((await rejection(s.readTaskState(bad))).code, bad).toBe('CHECKPOINT_FAILED');
    }
    expect((await rejection(s.writeTaskState('job', 10 ** 12, 't', Uint8Array.of(1)))).code).toBe('CHECKPOINT_FAILED');
    expect((await rejection(s.writeTaskState('job', -1, 't', Uint8Array.of(1)))).code).toBe('CHECKPOINT_FAILED');
    expect((await rejection(s.writeTaskState('job', 1, 'lone \uD800', Uint8Array.of(1)))).code).toBe('CHECKPOINT_FAILED');
  });

  it('lays out keys as <jobId> NUL chk NUL <12-digit id> NUL task NUL <taskId>, and ... NUL meta', async () => {
    const s = store();
    await checkpoint(s, 'job', 7);
    await s.close();
    expect(await rawKeys(directory)).toEqual(['job\x00chk\x00000000000007\x00meta', 'job\x00chk\x00000000000007\x00task\x00a', 'job\x00chk\x00000000000007\x00task\x00b']);
  });

  it('detects each kind of corruption with CHECKPOINT_CORRUPT naming the handle', async () => {
    const s = store();
    const payload = new Uint8Array(1000).map((_, i) => i % 251);
    const cases: [string, (bytes: Uint8Array) => Uint8Array, RegExp][] = [
      ['checksum', (b) => ((b[b.length - 1]! ^= 1), b), /sha256 checksum mismatch/],
      ['magic', (b) => ((b[0] = 0x58), b), /bad magic/],
      ['length', (b) => b.subarray(0, b.length - 10), /payload length 1000 in the header but 990 bytes stored/],
      ['header', (b) => b.subarray(0, 20), /truncated header \(20 bytes\)/],
      ['version', (b) => ((b[7] = 9), b), /unsupported version 9/],
    ];
    for (const [task, mutate, reason] of cases) {
      const h = await s.writeTaskState('job', 1, task, payload);
      await s.rewriteRaw(h, mutate);
      const e = await rejection(s.readTaskState(h));
      expect(e.code, task).toBe('CHECKPOINT_CORRUPT');
      expect(e.message, task).toContain(h);
      expect(e.message, task).toMatch(reason);
      expect(await s.verifyTaskState(h), task).toMatch(reason);
    }
    const missing = s.handleOf('job', 1, 'never-written');
    const e = await rejection(s.readTaskState(missing));
    expect(e.code).toBe('CHECKPOINT_CORRUPT');
    expect(e.message).toBe(`checkpoint state ${missing} is missing`);
    expect((await rejection(s.rewriteRaw(missing, (b) => b))).code).toBe('CHECKPOINT_FAILED');
  });

  it('latestValid falls back to the newest checkpoint that verifies, with the log line', async () => {
    const log = recordingLogger();
    const s = store(log);
    const jobId = 'fallback';
    await checkpoint(s, jobId, 1);
    const two = await checkpoint(s, jobId, 2);
    const three = await checkpoint(s, jobId, 3);
    expect(await s.latestValid(jobId)).toEqual(three);
    expect(log.lines).toEqual([]);

    await s.rewriteRaw(three.tasks.b!, (b) => ((b[b.length - 1]! ^= 0xff), b));
    expect(await s.latestValid(jobId)).toEqual(two);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.level).toBe('warn');
    expect(log.lines[0]!.msg).toBe(`checkpoint 3 of job ${jobId} is corrupt (task b: ${three.tasks.b}: sha256 checksum mismatch); restoring checkpoint 2`);
    expect(log.lines[0]!.obj).toMatchObject({ jobId, checkpointId: 3, restoring: 2 });
    // list does not read task state: the corrupt checkpoint is still listed.
    expect((await s.list(jobId)).map((m) => m.checkpointId)).toEqual([1, 2, 3]);

    // A checkpoint that never completed is no candidate, and is not reported.
    await s.writeTaskState(jobId, 4, 'a', Uint8Array.of(4));
    log.lines.length = 0;
    expect(await s.latestValid(jobId)).toEqual(two);
    expect(log.lines.map((l) => l.msg)).toEqual([expect.stringMatching(/^checkpoint 3 of job fallback is corrupt .*; restoring checkpoint 2$/)]);

    // Everything corrupt: undefined, and each is reported.
    const one = (await s.list(jobId))[0]!;
    await s.rewriteRaw(two.tasks.a!, (b) => ((b[0] = 0), b));
    await s.rewriteRaw(one.tasks.a!, (b) => b.subarray(0, 10));
    log.lines.length = 0;
    expect(await s.latestValid(jobId)).toBeUndefined();
    expect(log.lines.map((l) => l.msg)).toEqual([
      `checkpoint 3 of job ${jobId} is corrupt (task b: ${three.tasks.b}: sha256 checksum mismatch); no valid checkpoint to restore`,
      `checkpoint 2 of job ${jobId} is corrupt (task a: ${two.tasks.a}: bad magic (not Mobius checkpoint state)); no valid checkpoint to restore`,
      `checkpoint 1 of job ${jobId} is corrupt (task a: ${one.tasks.a}: truncated header (10 bytes)); no valid checkpoint to restore`,
    ]);
    expect(await s.latestValid('no-such-job')).toBeUndefined();
  });

  it('latestValid reports a missing task state and corrupt metadata; list skips corrupt metadata with a warning', async () => {
    const jobId = 'meta';
    let s = store();
    await checkpoint(s, jobId, 1);
    await checkpoint(s, jobId, 2);
    const three = await checkpoint(s, jobId, 3);
    await s.close();
    await withRawDb(directory, async (db) => {
      await db.put('meta\x00chk\x00000000000002\x00meta', Buffer.from('{"not":"json"', 'utf8'));
      await db.del('meta\x00chk\x00000000000003\x00task\x00a');
    });
    const log = recordingLogger();
    s = store(log);
    expect((await s.list(jobId)).map((m) => m.checkpointId)).toEqual([1, 3]);
    expect(log.lines.map((l) => [l.level, l.msg])).toEqual([['warn', `ignoring checkpoint 2 of job ${jobId}: corrupt metadata (metadata of checkpoint 2: not valid JSON)`]]);
    log.lines.length = 0;
    expect((await s.latestValid(jobId))?.checkpointId).toBe(1);
    expect(log.lines.map((l) => l.msg)).toEqual([
      `checkpoint 3 of job ${jobId} is corrupt (task a: ${three.tasks.a} is missing); restoring checkpoint 1`,
      `checkpoint 2 of job ${jobId} is corrupt (metadata: metadata of checkpoint 2: not valid JSON); restoring checkpoint 1`,
    ]);
  });

  it('rejects metadata whose checksum does not match or that names another checkpoint', async () => {
    const jobId = 'tampered';
    let s = store();
    await checkpoint(s, jobId, 1);
    await checkpoint(s, jobId, 2);
    await s.close();
    await withRawDb(directory, async (db) => {
      const key1 = 'tampered\x00chk\x00000000000001\x00meta';
      const m1 = JSON.parse((await db.get(key1))!.toString('utf8')) as Record<string, unknown>;
      await db.put(key1, Buffer.from(JSON.stringify({ ...m1, timestamp: 5 }), 'utf8'));
      // A valid metadata copied under the key of checkpoint 5.
      await db.put('tampered\x00chk\x00000000000005\x00meta', (await db.get('tampered\x00chk\x00000000000002\x00meta'))!);
    });
    const log = recordingLogger();
    s = store(log);
    expect((await s.list(jobId)).map((m) => m.checkpointId)).toEqual([2]);
    expect(log.lines.map((l) => l.msg)).toEqual([
      `ignoring checkpoint 1 of job ${jobId}: corrupt metadata (metadata of checkpoint 1: sha256 checksum mismatch)`,
      `ignoring checkpoint 5 of job ${jobId}: corrupt metadata (metadata of checkpoint 5: names checkpoint 2 of job "${jobId}")`,
    ]);
  });

  it('keeps completed checkpoints across close and reopen', async () => {
    let s = store();
    const payload = new Uint8Array(100_000).map((_, i) => (i * 7) % 256);
    const h = await s.writeTaskState('durable', 1, 'task', payload);
    const m = meta('durable', 1, { task: h }, true);
    await s.complete(m);
    await s.close();
    expect((await rejection(s.list('durable'))).code).toBe('CHECKPOINT_FAILED');
    expect((await rejection(s.readTaskState(h))).code).toBe('CHECKPOINT_FAILED');
    await s.close(); // idempotent

    s = store();
    expect(await s.list('durable')).toEqual([m]);
    expect(await s.latestValid('durable')).toEqual(m);
    expect(Buffer.from(await s.readTaskState(h)).equals(Buffer.from(payload))).toBe(true);
  });

  it('lists oldest first by number (2, 9, 10, 11), also after a reopen', async () => {
    let s = store();
    const jobId = 'order';
    for (const id of [10, 2, 11, 9]) await checkpoint(s, jobId, id);
    await s.writeTaskState(jobId, 12, 'a', Uint8Array.of(12)); // never completed
    expect((await s.list(jobId)).map((m) => m.checkpointId)).toEqual([2, 9, 10, 11]);
    await s.close();
    s = store();
    const listed = await s.list(jobId);
    expect(listed.map((m) => m.checkpointId)).toEqual([2, 9, 10, 11]);
    for (const m of listed) expect(Array.from(await s.readTaskState(m.tasks.b!))).toEqual([m.checkpointId, 0xb]);
    expect((await s.latestValid(jobId))?.checkpointId).toBe(11);
  });

  it('discards every key of a checkpoint and nothing else', async () => {
    let s = store();
    const kept = await checkpoint(s, 'discard', 1);
    const gone = await checkpoint(s, 'discard', 2);
    await checkpoint(s, 'discard', 3);
    await s.writeTaskState('discard', 4, 'a', Uint8Array.of(4)); // aborted
    await checkpoint(s, 'discard-other', 2);
    await s.discard('discard', 2);
    await s.discard('discard', 4);
    await s.discard('discard', 2); // again: harmless
    await s.discard('never-used', 1);
    expect((await s.list('discard')).map((m) => m.checkpointId)).toEqual([1, 3]);
    expect((await rejection(s.readTaskState(gone.tasks.a!))).code).toBe('CHECKPOINT_CORRUPT');
    expect(Array.from(await s.readTaskState(kept.tasks.a!))).toEqual([1, 0xa]);
    await s.close();
    const keys = await rawKeys(directory);
    expect(keys.filter((k) => k.startsWith('discard\x00chk\x00000000000002\x00') || k.startsWith('discard\x00chk\x00000000000004\x00'))).toEqual([]);
    expect(keys.filter((k) => k.startsWith('discard-other\x00'))).toHaveLength(3);
    expect(keys).toHaveLength(9); // checkpoints 1 and 3 of discard, 2 of discard-other: 3 keys each
    s = store();
    expect((await s.list('discard-other')).map((m) => m.checkpointId)).toEqual([2]);
  });

  it('keeps jobs whose ids contain the separators apart', async () => {
    const s = store();
    const jobs = ['a', 'a\x00chk\x00000000000001', 'a\x01', 'a\x00', ''];
    for (const [i, jobId] of jobs.entries()) {
      const h = await s.writeTaskState(jobId, 1, 't', Uint8Array.of(i));
      await s.complete(meta(jobId, 1, { t: h }));
    }
    for (const [i, jobId] of jobs.entries()) {
      const listed = await s.list(jobId);
      expect(listed.map((m) => m.jobId), JSON.stringify(jobId)).toEqual([jobId]);
      expect(Array.from(await s.readTaskState(listed[0]!.tasks.t!))).toEqual([i]);
    }
    await s.discard('a', 1);
    expect(await s.list('a')).toEqual([]);
    for (const jobId of jobs.slice(1)) expect(await s.list(jobId)).toHaveLength(1);
  });
});
