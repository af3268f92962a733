import type { MapFunction, RuntimeContext, SourceContext, SourceFunction } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { RecordingLogger, rejection } from '../test-fixtures/helpers.js';
import { EmbeddedRunner, StreamingContext, type ConfigValue } from './index.js';

function context(options: Record<string, ConfigValue> = {}): StreamingContext {
  const builder = StreamingContext.builder().runner(new EmbeddedRunner({ logger: new RecordingLogger() }));
  for (const [key, value] of Object.entries(options)) builder.option(key, value);
  return builder.build();
}

/** Numbers 0 .. count-1, `perFetch` at a time; counts what it emitted in `progress.emitted`. */
function counting(count: number, perFetch: number, progress: { emitted: number }): SourceFunction<number> {
  return {
    fetch(ctx: SourceContext<number>) {
      for (let i = 0; i < perFetch && progress.emitted < count; i++) ctx.collect(progress.emitted++);
      if (progress.emitted >= count) ctx.end();
    },
  };
}

const LINES = ['to be or not to be', 'that is the question', 'be quick or be dead', 'the end is not the question'];

describe('executeAndCollect in embedded mode', () => {
  it("returns a word count's running totals from two reduce tasks: every word's counts 1..n in order, finals equal to a plain count", async () => {
    const got = await context()
      .fromCollection(LINES)
      .flatMap((line: string) => line.split(' '))
      .map((w: string): [string, number] => [w, 1])
      .keyBy((p: [string, number]) => p[0])
      .reduce((a: [string, number], b: [string, number]): [string, number] => [a[0], a[1] + b[1]])
      .setParallelism(2)
      .executeAndCollect('word-count');
    const reference = new Map<string, number>();
    for (const line of LINES) for (const w of line.split(' ')) reference.set(w, (reference.get(w) ?? 0) + 1);
    const seen = new Map<string, number[]>();
    for (const [w, n] of got) seen.set(w, [...(seen.get(w) ?? []), n]);
    expect(new Map([...seen].map(([w, counts]) => [w, counts.length]))).toEqual(reference);
    for (const [w, counts] of seen) expect(counts, w).toEqual(Array.from({ length: reference.get(w)! }, (_, i) => i + 1));
  });

  it('with a limit returns the first records of an endless source and cancels the job', async () => {
    const progress = { emitted: 0 };
    const got = await context().source(counting(Number.MAX_SAFE_INTEGER, 10, progress)).executeAndCollect({ jobName: 'endless', limit: 250 });
    expect(got).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('holds the sink back while the caller does not read: never more than collect.buffer.max-bytes plus one input batch unread', async () => {
    // A number is estimated at 9 bytes: the buffer holds 100 of them; the source emits 10 per fetch.
    const progress = { emitted: 0 };
    const ctx = context({ 'collect.buffer.max-bytes': 900 });
    const records = ctx.source(counting(5000, 10, progress)).collectAsync();
    const job = await ctx.submit('bounded');
    let read = 0;
    let most = 0;
    for await (const r of records) {
      expect(r).toBe(read);
      read++;
      most = Math.max(most, progress.emitted - read);
      // A slow reader: one record per turn of the event loop, while the source emits ten a turn.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(read).toBe(5000);
    expect(most).toBeLessThanOrEqual(100 + 10);
    expect((await job.result()).state).toBe('FINISHED');
  });

  it("rejects with the job's failure", async () => {
    const error = await rejection(
      context()
        .fromValues(1, 2, 3)
        .map((x: number) => {
          if (x === 2) throw new Error('boom at 2');
          return x;
        })
        .executeAndCollect('failing'),
    );
    expect(error).toMatchObject({ code: 'JOB_FAILED', message: expect.stringContaining('boom at 2') });
  });

  it('is at-least-once across a restart: after a task failure every record arrives, some perhaps twice', async () => {
    const n = 20_000;
    const failOnce: MapFunction<number, number> & { attempt: number } = {
      attempt: 0,
      open(ctx: RuntimeContext) {
        this.attempt = ctx.attempt;
      },
      map(x: number) {
        if (this.attempt === 0 && x === n / 2) throw new Error('first attempt fails half way');
        return x;
      },
    };
    const got = await context({ 'checkpoint.interval.ms': 10, 'restart.strategy': 'fixed-delay', 'restart.delay.ms': 0 })
      .fromCollection(Array.from({ length: n }, (_, i) => i))
      .map(failOnce)
      .executeAndCollect('restarted');
    expect(got.length).toBeGreaterThanOrEqual(n);
    expect([...new Set(got)].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('returns every record with checkpoints on (a checkpoint interval shorter than the job)', async () => {
    const progress = { emitted: 0 };
    const got = await context({ 'checkpoint.interval.ms': 20 }).source(counting(20_000, 100, progress)).map((x: number) => x * 2).executeAndCollect('checkpointed');
    expect(got).toEqual(Array.from({ length: 20_000 }, (_, i) => i * 2));
  });
});
