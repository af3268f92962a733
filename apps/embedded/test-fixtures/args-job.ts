// A job whose graph depends on its arguments: `<parallelism> <label>`. It prints the argv it
// saw; under `run` it also prints the tasks that ran, to compare with what `explain` shows.
import { StreamingContext } from 'mobius';

console.log(`argv ${JSON.stringify(process.argv.slice(1))}`);
const [parallelism, label] = process.argv.slice(2);
if (parallelism === undefined || label === undefined) {
  console.error('usage: args-job <parallelism> <label>');
  process.exit(2);
}
const ctx = StreamingContext.builder().build();
ctx
  .fromValues(1, 2, 3, 4)
  .map((n: number) => n + 1)
  .name(`plus-one-${label}`)
  .setParallelism(Number(parallelism))
  .sink(() => undefined);
const handle = await ctx.submit(`args-${label}`);
await handle.result();
console.log(`tasks ${JSON.stringify(handle.metrics().map((m) => m.taskId).sort())}`);
