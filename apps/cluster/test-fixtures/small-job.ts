import { StreamingContext } from 'mobius';

const ctx = StreamingContext.builder().option('parallelism.default', 2).build();
ctx.fromValues('a', 'b', 'c').map((x: string) => x.toUpperCase()).name('upper').sink(() => {});
await ctx.execute('small');
