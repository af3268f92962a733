// A TypeScript job run by importJob with the default (embedded) runner: results on globalThis.
import { StreamingContext, type JobResult } from 'mobius';

interface RunProbe {
  sunk: string[];
  result?: JobResult;
}

const probe: RunProbe = { sunk: [] };
(globalThis as Record<string, unknown>).__mobiusRunProbe = probe;

const ctx = StreamingContext.builder().build();
const records = ctx
  .fromValues('x', 'y', 'z')
  .map((s: string): string => s.toUpperCase())
  .collectAsync();
const job = await ctx.submit('run-me');
for await (const s of records) probe.sunk.push(s);
probe.result = await job.result();
