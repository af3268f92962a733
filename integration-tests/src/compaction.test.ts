import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedRunner, StreamingContext } from 'mobius';
import { decodeTaskSnapshot } from '@mobius/runtime';
import { RecordingLogger } from './checkpoint-helpers.js';
import { readText, referenceCounts, repoRoot, tempDir } from './helpers.js';

type Pair = [string, number];

describe('background compaction of incremental LevelDB checkpoints (embedded)', () => {
  const tmp = tempDir('mobius-compaction-');
  afterAll(() => tmp.remove());

  it("rewrites every completed checkpoint's state chains as full snapshots, with the same state", async () => {
    const corpus = join(tmp.dir, 'corpus.txt');
    execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpus, String(6_000_000), '13']);
    const checkpoints = join(tmp.dir, 'checkpoints');
    const logger = new RecordingLogger();
    const ctx = StreamingContext.builder()
      .runner(new EmbeddedRunner({ logger }))
      .option('checkpoint.interval.ms', 50)
      .option('checkpoint.dir', checkpoints)
      .option('state.backend', 'level')
      .option('state.level.cache-entries', 5000)
      .build();
    const updates = ctx
      .readTextFile(corpus)
      .flatMap((line: string) => line.split(/\s+/).filter((w) => w.length > 0))
      .map((w: string): Pair => [w, 1])
      .keyBy((p) => p[0])
      .reduce((a, b): Pair => [a[0], a[1] + b[1]])
      .collectAsync();
    const job = await ctx.submit('compaction');
    // Read while the job runs (the collect buffer is bounded); keep each word's last total.
    const last = new Map<string, number>();
    for await (const p of updates) last.set(p[0], p[1]);
    const result = await job.result();
    expect(result.state).toBe('FINISHED');
    const withoutRay = [...last].filter(([w]) => !w.includes('ray'));
    expect(withoutRay.sort()).toEqual([...referenceCounts(readText(corpus))].sort());

    // Every completed checkpoint left in the store: its reduce state is one full snapshot.
    const [jobDir] = readdirSync(checkpoints);
    const completed = readdirSync(join(checkpoints, jobDir)).filter((d) => existsSync(join(checkpoints, jobDir, d, '_metadata.json')));
    expect(completed.length).toBeGreaterThanOrEqual(3);
    let reduceSnapshots = 0;
    for (const chk of completed) {
      const meta = JSON.parse(readFileSync(join(checkpoints, jobDir, chk, '_metadata.json'), 'utf8')) as { tasks: Record<string, string> };
      for (const handle of Object.values(meta.tasks)) {
        const bytes = readFileSync(join(checkpoints, handle));
        const snapshot = decodeTaskSnapshot(bytes.subarray(48)); // the store's header: MOBC, version, length, sha256
        for (const [opId, state] of Object.entries(snapshot.operators)) {
          expect((state as { incremental?: boolean }).incremental, `${chk} ${opId}`).toBe(false);
          reduceSnapshots++;
        }
      }
    }
    expect(reduceSnapshots).toBeGreaterThan(0);

    // The full snapshots above would also be there if no delta had ever been written. The job
    // master says which checkpoints it rewrote: only those holding incremental state, so the
    // checkpoints left in the store must have been written as deltas, then compacted.
    const compacted = new Set(
      logger.lines.filter((l) => l.msg === 'checkpoint compacted' && Number(l.obj.tasks) > 0).map((l) => `chk-${String(l.obj.checkpointId)}`),
    );
    const written = completed.filter((chk) => compacted.has(chk));
    expect(written.length, `compacted: ${[...compacted].join(', ')}; in the store: ${completed.join(', ')}`).toBeGreaterThan(0);
  });
});
