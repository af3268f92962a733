// A job whose map throws; the module awaits execute() without catching, so the import rejects.
import { StreamingContext } from 'mobius';

const ctx = StreamingContext.builder().build();
ctx
  .fromValues(1, 2, 3)
  .map((n: number): number => {
    if (n === 2) throw new Error('fixture boom');
    return n;
  })
  .name('explode')
  .sink(() => {});
await ctx.execute('doomed-job');
console.log('unreachable: after execute');
