// The seed's word count (Ray Streaming / Mobius), in embedded mode:
//   mobius run examples/word-count/word-count.ts [FILE] [--parallelism N]
import { StreamingContext } from 'mobius';
import { wordCountArgs } from './word-count-args.js';

const { file, parallelism } = wordCountArgs();

const ctx = StreamingContext.builder().option('parallelism.default', parallelism).build();
const counts = new Map<string, number>();

ctx
  .readTextFile(file)
  .flatMap((line) => line.split(/\s+/).filter((w) => w.length > 0))
  .map((word) => [word, 1] as [string, number])
  .keyBy((pair) => pair[0])
  .reduce((a, b) => [a[0], a[1] + b[1]] as [string, number])
  .filter((pair) => !pair[0].includes('ray'))
  .sink((pair) => {
    counts.set(pair[0], pair[1]);
  });

const started = performance.now();
const result = await ctx.execute('word_count');
const seconds = (performance.now() - started) / 1000;

const words = result.tasks.filter((t) => t.vertexName.startsWith('reduce')).reduce((n, t) => n + t.recordsIn, 0);
const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 20);
console.log(`word_count over ${file} at parallelism ${parallelism}: ${counts.size} distinct words (without "ray")`);
for (const [word, count] of top) console.log(`${String(count).padStart(9)}  ${word}`);
console.log(`${words} records in ${seconds.toFixed(2)} s: ${Math.round(words / seconds).toLocaleString('en-US')} records/s`);
