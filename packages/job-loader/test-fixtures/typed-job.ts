// A TypeScript job module (type annotations, an interface): loaded through tsx, no compile step.
// It records on globalThis what ran, and names its map after its own arguments.
import { StreamingContext } from '@mobius/api';

interface Probe {
  loads: number;
  afterSubmit: number;
}

const g = globalThis as { __jobLoaderProbe?: Probe };
const probe: Probe = (g.__jobLoaderProbe ??= { loads: 0, afterSubmit: 0 });
probe.loads++;

const ctx = StreamingContext.builder().build();
ctx
  .fromValues(1, 2, 3)
  .map((n: number): number => n * 10)
  .name(`args:${process.argv.slice(2).join(',')}`)
  .sink(() => undefined);
await ctx.submit('typed');
probe.afterSubmit++;
