import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobRecord } from '@mobius/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { FsJobStore, MemoryJobStore } from './job-store.js';

const record = (id: string, restarts = 0): JobRecord => ({
  id,
  name: 'job',
  args: ['--x'],
  state: 'RUNNING',
  submitTime: 1,
  checkpointDir: '/tmp/chk',
  restore: null,
  attempt: restarts,
  restarts,
  reservedCheckpointId: 100,
  tasks: [{ taskId: 'a#0', workerId: 'w1', attempt: restarts }],
});

describe('job stores', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('FsJobStore writes <root>/<id>/job.json, replaces it whole, and lists and loads it back', () => {
    const root = mkdtempSync(join(tmpdir(), 'mobius-jobstore-'));
    dirs.push(root);
    const store = new FsJobStore(join(root, 'jobs'));
    store.save(record('j1'));
    store.save(record('j1', 2));
    store.save(record('j2'));
    expect(JSON.parse(readFileSync(join(root, 'jobs', 'j1', 'job.json'), 'utf8'))).toEqual(record('j1', 2));
    expect(existsSync(join(root, 'jobs', 'j1', 'job.json.tmp'))).toBe(false);
    expect([...store.list()].sort()).toEqual(['j1', 'j2']);
    expect(new FsJobStore(join(root, 'jobs')).load('j1')).toEqual(record('j1', 2));
    expect(store.load('nope')).toBeUndefined();
  });

  it('MemoryJobStore keeps the last record of each job', () => {
    const store = new MemoryJobStore();
    store.save(record('j1'));
    store.save(record('j1', 1));
    expect(store.load('j1')).toEqual(record('j1', 1));
    expect(store.list()).toEqual(['j1']);
  });
});
