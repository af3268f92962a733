// A job module for planning mode (captureJob / `mobius explain`): it records on globalThis and,
// when MOBIUS_FIXTURE_MARKER names a file, appends to that file what actually ran.
import { appendFileSync } from 'node:fs';
import { StreamingContext } from 'mobius';

interface CaptureProbe {
  loaded: boolean;
  sinkCalls: number;
  afterSubmit: boolean;
}

const probe: CaptureProbe = { loaded: true, sinkCalls: 0, afterSubmit: false };
(globalThis as Record<string, unknown>).__mobiusCaptureProbe = probe;
const marker = process.env.MOBIUS_FIXTURE_MARKER;
const mark = (line: string): void => {
  if (marker !== undefined && marker !== '') appendFileSync(marker, `${line}\n`);
};

const ctx = StreamingContext.builder().build();
ctx
  .fromValues(1, 2, 3)
  .map((n: number) => n * 10)
  .name('times-ten')
  .sink((n: number) => {
    probe.sinkCalls++;
    mark(`sink ${n}`);
  });
await ctx.execute('capture-me');
probe.afterSubmit = true;
mark('after-submit');
