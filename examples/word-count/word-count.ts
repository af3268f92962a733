// The seed's word count (Ray Streaming / Mobius), in embedded mode:
//   mobius run examples/word-count/word-count.ts [FILE] [--parallelism N]
// Under `mobius run` the tasks run on worker threads (execution.threads, auto = one per core),
// so the counts come back to this module through executeAndCollect(), never through a sink
// that writes into a variable of this module (the threads have their own copies of it).
import { StreamingContext } from 'mobius';
import { wordCountArgs } from './word-count-args.js';

const { file, parallelism } = wordCountArgs();

const ctx = StreamingContext.builder().option('parallelism.default', parallelism).build();

const started = performance.now();
const totals = await ctx
  .readTextFile(file)
  .flatMap((line) => line.split(/\s+/).filter((w) => w.length > 0))
  .map((word) => [word, 1] as [string, number])
  .keyBy((pair) => pair[0])
  .reduce((a, b) => [a[0], a[1] + b[1]] as [string, number])
  .filter((pair) => !pair[0].includes('ray'))
  .executeAndCollect('word_count');
const seconds = (performance.now() - started) / 1000;

// A reduce emits every running total; one task owns each word and hands its totals over in
// order, so the last total of a word is its count.
const counts = new Map<string, number>(totals);
const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 20);
console.log(`word_count over ${file} at parallelism ${parallelism}: ${counts.size} distinct words (without "ray")`);
for (const [word, count] of top) console.log(`${String(count).padStart(9)}  ${word}`);
console.log(`${totals.length} records in ${seconds.toFixed(2)} s: ${Math.round(totals.length / seconds).toLocaleString('en-US')} records/s`);
