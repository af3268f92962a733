// A keyed job with source data, for the planning child's round trip.
import { StreamingContext } from '@mobius/api';

const ctx = StreamingContext.builder().option('parallelism.default', 2).build();
ctx
  .fromValues('a', 'b', 'a', 'c')
  .map((w: string): [string, number] => [w, 1])
  .keyBy((p) => p[0])
  .reduce((a, b): [string, number] => [a[0], a[1] + b[1]])
  .sink(() => undefined);
await ctx.submit(`keyed:${process.argv.slice(2).join(',')}`);
