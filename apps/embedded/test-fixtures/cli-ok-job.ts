// A job for `mobius run`: prints its arguments and the final sum per parity as one JSON line.
import { StreamingContext } from 'mobius';

const ctx = StreamingContext.builder().build();
const records = ctx
  .fromValues(1, 2, 3, 4, 5)
  .map((n: number): [string, number] => [n % 2 === 0 ? 'even' : 'odd', n])
  .keyBy((pair: [string, number]) => pair[0])
  .reduce((a: [string, number], b: [string, number]): [string, number] => [a[0], a[1] + b[1]])
  .collectAsync();
const handle = await ctx.submit('cli-ok');
// Records come back through collectAsync: under `mobius run` the tasks run on threads.
const totals: Record<string, number> = {};
for await (const pair of records) totals[pair[0]] = Math.max(totals[pair[0]] ?? 0, pair[1]);
const result = await handle.result();
console.log(JSON.stringify({ args: process.argv.slice(2), totals, state: result.state }));
