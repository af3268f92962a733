import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileSink, StreamingContext, type DataStream } from 'mobius';
import type { Pair } from './checkpoint-helpers.js';

/** True once the FileSink folder `dir` holds a committed part file (a checkpoint completed and committed). */
export function hasCommittedFiles(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.jsonl'));
}

/**
 * The word count of the embedded failover tests, run to its end: checkpoints every 100 ms, a
 * FileSink into `<tmp>/out-<name>`; `pairs` turns the words into [word, 1] pairs (the step that
 * injects the failure).
 */
export async function runFailoverWordCount(
  tmp: string,
  corpusPath: string,
  name: string,
  strategy: 'single-task' | 'global',
  pairs: (words: DataStream<string>, out: string) => DataStream<Pair>,
) {
  const out = join(tmp, `out-${name}`);
  const ctx = StreamingContext.builder()
    .option('parallelism.default', 2)
    .option('checkpoint.interval.ms', 100)
    .option('checkpoint.dir', join(tmp, `checkpoints-${name}`))
    .option('restart.strategy', 'fixed-delay')
    .option('restart.delay.ms', 10)
    .option('failover.strategy', strategy)
    .build();
  pairs(
    ctx.readTextFile(corpusPath).flatMap((line: string) => line.split(/\s+/).filter((w) => w.length > 0)),
    out,
  )
    .keyBy((p) => p[0])
    .reduce((a, b): Pair => [a[0], a[1] + b[1]])
    .filter((p) => !p[0].includes('ray')) // as referenceCounts does
    .sink(new FileSink<Pair>({ dir: out }));
  const job = await ctx.submit(name);
  const result = await job.result();
  return { out, job, result };
}
