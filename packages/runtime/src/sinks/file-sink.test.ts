import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuntimeContext } from '@mobius/interface';
import { FileSink } from './file-sink.js';

const ctx = (taskIndex: number, attempt = 0): RuntimeContext => ({ taskIndex, attempt }) as unknown as RuntimeContext;
const visible = (dir: string): string[] => readdirSync(dir).filter((f) => !f.startsWith('.')).sort();
const hidden = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('.')).sort();
const lines = (dir: string, f: string): unknown[] => readFileSync(join(dir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);

describe('FileSink (two-phase commit)', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'mobius-filesink-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes nothing visible before a commit; pre-commit at the barrier, commit on completion', () => {
    const dir = fresh();
    const sink = new FileSink<{ n: number }>({ dir, bufferLines: 2 });
    sink.open(ctx(0));
    for (let n = 0; n < 5; n++) sink.sink({ n });
    expect(visible(dir)).toEqual([]);
    const state = sink.snapshotState(1);
    expect(state.pending).toHaveLength(1);
    expect(visible(dir)).toEqual([]);
    expect(hidden(dir)).toEqual(['.part-0-1.pending']);
    sink.sink({ n: 5 });
    sink.notifyCheckpointComplete(1);
    expect(visible(dir)).toEqual(['part-0-1.jsonl']);
    expect(lines(dir, 'part-0-1.jsonl')).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
    sink.finish();
    expect(visible(dir)).toEqual(['part-0-1.jsonl', 'part-0-end.jsonl']);
    expect(lines(dir, 'part-0-end.jsonl')).toEqual([{ n: 5 }]);
    expect(hidden(dir)).toEqual([]);
  });

  it('a checkpoint with nothing new pre-commits nothing, and commits stay per checkpoint', () => {
    const dir = fresh();
    const sink = new FileSink<number>({ dir });
    sink.open(ctx(3));
    expect(sink.snapshotState(1).pending).toEqual([]);
    sink.sink(1);
    sink.snapshotState(2);
    sink.sink(2);
    sink.snapshotState(3);
    sink.notifyCheckpointComplete(2);
    expect(visible(dir)).toEqual(['part-3-2.jsonl']);
    sink.notifyCheckpointComplete(3);
    expect(visible(dir)).toEqual(['part-3-2.jsonl', 'part-3-3.jsonl']);
  });

  it('a restore commits the restored checkpoint and drops what came after it', () => {
    const dir = fresh();
    const first = new FileSink<string>({ dir });
    first.open(ctx(0));
    first.sink('a');
    const checkpoint1 = first.snapshotState(1); // completed, but the notification never came
    first.sink('b');
    first.snapshotState(2); // aborted by the failure
    first.sink('c'); // in progress at the failure
    first.close();
    expect(visible(dir)).toEqual([]);

    const restarted = new FileSink<string>({ dir });
    restarted.open(ctx(0, 1));
    restarted.restoreState(checkpoint1);
    expect(visible(dir)).toEqual(['part-0-1.jsonl']);
    expect(lines(dir, 'part-0-1.jsonl')).toEqual(['a']);
    expect(hidden(dir)).toEqual([]);
    restarted.restoreState(checkpoint1); // idempotent
    expect(visible(dir)).toEqual(['part-0-1.jsonl']);
  });

  it('a cancel or failure aborts the in-progress file and keeps the pending ones', () => {
    const dir = fresh();
    const sink = new FileSink<string>({ dir, bufferLines: 1 });
    sink.open(ctx(0, 2));
    sink.sink('a');
    sink.snapshotState(4);
    sink.sink('b'); // written through to the in-progress file
    expect(hidden(dir)).toEqual(['.part-0-2-2.inprogress', '.part-0-4.pending']);
    sink.close();
    expect(hidden(dir)).toEqual(['.part-0-4.pending']);
    expect(visible(dir)).toEqual([]);
  });

  it('a restore only touches its own task index', () => {
    const dir = fresh();
    const other = new FileSink<string>({ dir });
    other.open(ctx(1));
    other.sink('x');
    other.snapshotState(5);
    const mine = new FileSink<string>({ dir });
    mine.open(ctx(0));
    mine.restoreState({ pending: [] });
    expect(hidden(dir)).toEqual(['.part-1-5.pending']);
  });
});

describe('FileSink falling back past a later committed checkpoint', () => {
  it('deletes the output committed for checkpoints after the restored one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mobius-filesink-'));
    try {
      const sink = new FileSink<string>({ dir });
      sink.open(ctx(0));
      sink.sink('a');
      const checkpoint1 = sink.snapshotState(1);
      sink.notifyCheckpointComplete(1);
      sink.sink('b');
      sink.snapshotState(2);
      sink.notifyCheckpointComplete(2); // committed, but checkpoint 2 turns out corrupt
      sink.close();
      expect(visible(dir)).toEqual(['part-0-1.jsonl', 'part-0-2.jsonl']);
      const restarted = new FileSink<string>({ dir });
      restarted.open(ctx(0, 1));
      restarted.restoreState(checkpoint1);
      expect(visible(dir)).toEqual(['part-0-1.jsonl']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
