import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRunner, FileSink, StreamingContext, type JobResult, type MapFunction, type RuntimeContext } from 'mobius';
import { completeCheckpoints, exactlyOnceViolations, RecordingLogger, type Pair } from './checkpoint-helpers.js';
import { readText, referenceCounts, repoRoot, tempDir } from './helpers.js';

/** What the failing map did, shared by its parallel instances (the runtime copies the function object shallowly per task). */
interface Injection {
  done: boolean;
  corruptedId?: number;
  previousId?: number;
  corruptedFile?: string;
  flippedAt?: number;
  /** The sink files committed for the corrupted checkpoint when the map failed. */
  committedParts?: string[];
}

const HEADER_BYTES = 48; // FsCheckpointStore task file: magic, version, length, sha256; then the payload

/**
 * Fails once, in attempt 0, once at least two checkpoints are complete in the checkpoint folder
 * and the sink has committed the newest one; right before throwing it flips bytes in the
 * payload of the largest task file of that newest complete checkpoint.
 * It only does so while its own task has not snapshot anything newer than that checkpoint
 * (snapshotState records the last id): the next checkpoint needs this task's ack, which never
 * comes, so no newer checkpoint can complete and the corrupted one is still the newest when the
 * job restarts. The restart must fall back to the previous checkpoint.
 */
class CorruptNewestCheckpointThenFail implements MapFunction<string, Pair> {
  private attempt = 0;
  private seen = 0;
  private lastSnapshot = 0;
  constructor(
    private readonly checkpointRoot: string,
    private readonly outDir: string,
    private readonly injection: Injection,
  ) {}
  open(ctx: RuntimeContext): void {
    this.attempt = ctx.attempt;
  }
  snapshotState(checkpointId: number): number {
    this.lastSnapshot = checkpointId;
    return checkpointId;
  }
  restoreState(): void {}
  map(word: string): Pair {
    if (this.attempt === 0 && !this.injection.done && ++this.seen % 200 === 0) this.maybeCorruptAndFail();
    return [word, 1];
  }
  private maybeCorruptAndFail(): void {
    // The job id is not known up front: look at every job folder of our private checkpoint root.
    const complete = completeCheckpoints(this.checkpointRoot);
    if (complete.length < 2) return;
    const newest = complete[complete.length - 1];
    const previous = complete[complete.length - 2];
    if (newest.id !== this.lastSnapshot) return; // this task already snapshot a newer checkpoint: wait for it
    const committedParts = readdirSafe(this.outDir).filter((f) => f.endsWith(`-${newest.id}.jsonl`));
    if (committedParts.length === 0) return; // the sink commits right after completion: wait for that
    const files = readdirSync(newest.dir)
      .filter((f) => f.endsWith('.state'))
      .map((f) => ({ path: join(newest.dir, f), size: statSync(join(newest.dir, f)).size }))
      .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));
    const target = files[0];
    if (target === undefined || target.size <= HEADER_BYTES) return;
    const bytes = readFileSync(target.path);
    const at = HEADER_BYTES + Math.floor((bytes.length - HEADER_BYTES) / 2);
    for (let i = at; i < Math.min(at + 4, bytes.length); i++) bytes[i] ^= 0xff;
    writeFileSync(target.path, bytes);
    Object.assign(this.injection, { done: true, corruptedId: newest.id, previousId: previous.id, corruptedFile: target.path, flippedAt: at, committedParts });
    throw new Error(`injected failure after corrupting checkpoint ${newest.id}`);
  }
}

/** Throws once, in the first attempt, after the sink's first checkpoint commit is visible (as in exactly-once.test.ts). */
class FailOnceAfterACommit implements MapFunction<string, Pair> {
  private attempt = 0;
  private seen = 0;
  constructor(private readonly outDir: string) {}
  open(ctx: RuntimeContext): void {
    this.attempt = ctx.attempt;
  }
  map(word: string): Pair {
    if (this.attempt === 0 && ++this.seen % 500 === 0 && readdirSafe(this.outDir).some((f) => f.endsWith('.jsonl'))) {
      throw new Error('injected failure after a committed checkpoint');
    }
    return [word, 1];
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function makeCorpus(path: string, bytes: number, seed: number): string {
  execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), path, String(bytes), String(seed)]);
  return path;
}

describe('a corrupt checkpoint is detected and the previous one is restored (embedded)', () => {
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterAll(() => tmp?.remove());
  let checkpoints: string;
  let out: string;
  const injection: Injection = { done: false };
  const logger = new RecordingLogger();
  let reference: Map<string, number>;
  let result: JobResult;

  beforeAll(async () => {
    tmp = tempDir('mobius-corrupt-chk-');
    checkpoints = join(tmp.dir, 'checkpoints');
    out = join(tmp.dir, 'out');
    // ~20 MB, about 4.4 M words. A checkpoint takes ~400 ms end to end here (not 50 ms: the
    // barrier waits behind the queued frames, then 4 task files and the metadata are fsynced),
    // so the 6 MB corpus of exactly-once.test.ts (~0.7 s) completes only 1 or 2 checkpoints;
    // this one runs ~2.2 s undisturbed and completes ~6, so two are committed well before the end.
    const corpusPath = makeCorpus(join(tmp.dir, 'corpus.txt'), 20_000_000, 11);
    reference = referenceCounts(readText(corpusPath));
    const ctx = StreamingContext.builder()
      .runner(new EmbeddedRunner({ logger }))
      .option('parallelism.default', 2)
      .option('checkpoint.interval.ms', 50)
      .option('checkpoint.retained', 10)
      .option('checkpoint.dir', checkpoints)
      .option('restart.strategy', 'fixed-delay')
      .option('restart.delay.ms', 10)
      .build();
    ctx
      .readTextFile(corpusPath)
      .flatMap((line: string) => line.split(/\s+/).filter((w) => w.length > 0))
      .map(new CorruptNewestCheckpointThenFail(checkpoints, out, injection))
      .keyBy((p) => p[0])
      .reduce((a, b): Pair => [a[0], a[1] + b[1]])
      .filter((p) => !p[0].includes('ray'))
      .sink(new FileSink<Pair>({ dir: out }));
    result = await ctx.execute('corrupt_checkpoint');
  }, 120_000);

  it('flipped bytes in a task file of the newest checkpoint: a warning, the previous checkpoint restored, FINISHED', () => {
    expect(result.state).toBe('FINISHED');
    expect(injection.done, 'the map never saw two complete, committed checkpoints').toBe(true);
    expect(result.tasks.some((t) => t.attempt > 0)).toBe(true); // it did restart
    const { corruptedId, previousId } = injection;

    // The store noticed the flipped bytes and fell back to the checkpoint before.
    const warns = logger.messages('warn');
    const fallback = warns.filter((m) => /is corrupt .* restoring checkpoint \d+/.test(m));
    expect(fallback, warns.join('\n')).toHaveLength(1);
    expect(fallback[0]).toContain(`checkpoint ${corruptedId} of job ${result.jobId} is corrupt (`);
    expect(fallback[0]).toContain('sha256 checksum mismatch');
    expect(fallback[0]).toMatch(new RegExp(`; restoring checkpoint ${previousId}$`));
    const restarts = logger.lines.filter((l) => l.level === 'warn' && l.msg.startsWith('restarting'));
    expect(restarts.map((l) => [l.msg, l.obj.checkpointId])).toEqual([['restarting from a checkpoint', previousId]]);
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]); // nothing left in progress
  });

  // The FileSink had already committed part-<task>-<corrupted>.jsonl when the job fell back to
  // the checkpoint before it. Restoring deletes the committed output of checkpoints newer than
  // the restored one (ids are never reused, so nothing rewrites those names), and the restarted
  // job writes those updates again under newer ids: exactly once overall.
  it('the files committed for the corrupted checkpoint are deleted on the fallback, and every update is committed exactly once', () => {
    expect(injection.committedParts?.length, 'the sink had committed the corrupted checkpoint before the failure').toBeGreaterThan(0);
    const corruptedParts = new RegExp(`^part-\\d+-${injection.corruptedId}\\.jsonl$`);
    expect(readdirSync(out).filter((f) => corruptedParts.test(f))).toEqual([]);
    const wrong = exactlyOnceViolations(out, reference);
    expect(wrong.slice(0, 5), `${wrong.length} words violate exactly-once (corrupted chk-${injection.corruptedId}, restored chk-${injection.previousId})`).toEqual([]);
    console.log(
      `corrupt-checkpoint: flipped 4 bytes at offset ${injection.flippedAt} of ${injection.corruptedFile?.slice(checkpoints.length + 1)}; ` +
        `restored chk-${injection.previousId} instead of chk-${injection.corruptedId}; job ${result.durationMs} ms; ` +
        `deleted ${injection.committedParts?.join(', ')}`,
    );
  });
});

describe("'state.backend' 'level' with checkpoints and a restart (embedded)", () => {
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterAll(() => tmp?.remove());
  const jobIds: string[] = [];
  // The LevelDB working copies go to <tmp>/mobius-state/<pid>/<jobId> (this process runs the jobs): remove ours.
  afterAll(() => {
    for (const id of jobIds) rmSync(join(tmpdir(), 'mobius-state', String(process.pid), id), { recursive: true, force: true });
  });

  it('one injected failure after a committed checkpoint: restored from LevelDB snapshots, exactly-once FileSink output', async () => {
    // ~10 MB: with the level backend a checkpoint takes ~1 s end to end, and the failure must
    // come after the first one is committed (at ~1.1 s of a ~3.2 s undisturbed job).
    tmp = tempDir('mobius-level-eo-');
    const corpusPath = makeCorpus(join(tmp.dir, 'corpus.txt'), 10_000_000, 5);
    const reference = referenceCounts(readText(corpusPath));
    const out = join(tmp.dir, 'out');
    const logger = new RecordingLogger();
    const ctx = StreamingContext.builder()
      .runner(new EmbeddedRunner({ logger }))
      .option('parallelism.default', 2)
      .option('state.backend', 'level')
      // Fewer entries than each task's distinct words (~14,000 of 28,009): evictions, and reads from disk.
      // (Far smaller caches make every put block on a LevelDB write; the task then turns the event
      // loop so rarely that checkpoint files take seconds to write and none completes before the end.)
      .option('state.level.cache-entries', 5000)
      .option('checkpoint.interval.ms', 50)
      .option('checkpoint.dir', join(tmp.dir, 'checkpoints'))
      .option('restart.strategy', 'fixed-delay')
      .option('restart.delay.ms', 10)
      .build();
    ctx
      .readTextFile(corpusPath)
      .flatMap((line: string) => line.split(/\s+/).filter((w) => w.length > 0))
      .map(new FailOnceAfterACommit(out))
      .keyBy((p) => p[0])
      .reduce((a, b): Pair => [a[0], a[1] + b[1]])
      .filter((p) => !p[0].includes('ray'))
      .sink(new FileSink<Pair>({ dir: out }));
    const result = await ctx.execute('level_exactly_once');
    jobIds.push(result.jobId);

    expect(result.state).toBe('FINISHED');
    expect(result.tasks.some((t) => t.attempt > 0)).toBe(true); // it did restart
    const restarts = logger.lines.filter((l) => l.level === 'warn' && l.msg.startsWith('restarting'));
    expect(restarts.map((l) => l.msg)).toEqual(['restarting from a checkpoint']); // from a checkpoint, not from the beginning
    expect(restarts[0].obj.checkpointId).toBeGreaterThan(0);
    console.log(`level exactly-once: restored checkpoint ${String(restarts[0].obj.checkpointId)}, job ${result.durationMs} ms, ${reference.size} words`);

    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
    const wrong = exactlyOnceViolations(out, reference);
    expect(reference.size).toBeGreaterThan(2 * 5000); // more words than the two tasks' caches
    expect(wrong.slice(0, 5), `${wrong.length} words violate exactly-once`).toEqual([]);
  });
});
