// The seed's word count with its results brought back to this module by executeAndCollect():
//   mobius run examples/word-count/collect-word-count.ts [FILE] [--parallelism N]
// No sink closes over a variable of this module, so the counts reach it wherever the tasks run.
import { StreamingContext } from 'mobius';
import { wordCountArgs } from './word-count-args.js';

const { file, parallelism } = wordCountArgs();

const ctx = StreamingContext.builder().option('parallelism.default', parallelism).build();
const totals = await ctx
  .readTextFile(file)
  .flatMap((line) => line.split(/\s+/).filter((w) => w.length > 0))
  .map((word) => [word, 1] as [string, number])
  .keyBy((pair) => pair[0])
  .reduce((a, b) => [a[0], a[1] + b[1]] as [string, number])
  .filter((pair) => !pair[0].includes('ray'))
  .executeAndCollect('word_count');

// A reduce emits every running total; one task owns each word and hands its totals over in
// order, so the last total of a word is its count.
const counts = new Map<string, number>(totals);
const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 20);
console.log(`word_count over ${file} at parallelism ${parallelism}: ${counts.size} distinct words (without "ray")`);
for (const [word, count] of top) console.log(`${String(count).padStart(9)}  ${word}`);
