import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/**
 * The seed's word count into the exactly-once FileSink (sink parallelism 1), fed by a paced
 * source at parallelism 2 (a line i belongs to task i % 2), whose word → pair map is the class
 * `mapClass` (its source text, named `PairMap`) in tasks of its own (chaining disabled), so that
 * it runs in a task loop with input channels.
 */
export function busyWordCountJob(input: string, out: string, options: Record<string, string | number>, pace: { lines: number; everyMs: number }, mapClass: string): string {
  return `
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { FileSink, StreamingContext, type RuntimeContext, type SourceContext, type SourceFunction } from 'mobius';

${mapClass}

class PacedLines implements SourceFunction<string> {
  private lines: string[] = [];
  private offset = 0;
  init(parallelism: number, index: number): void {
    this.lines = readFileSync(${JSON.stringify(input)}, 'utf8').split('\\n').filter((_, i) => i % parallelism === index);
  }
  async fetch(ctx: SourceContext<string>): Promise<void> {
    if (this.offset >= this.lines.length) {
      ctx.end();
      return;
    }
    const end = Math.min(this.lines.length, this.offset + ${pace.lines});
    for (; this.offset < end; this.offset++) ctx.collect(this.lines[this.offset]);
    await new Promise((r) => setTimeout(r, ${pace.everyMs}));
  }
  snapshotState(): number {
    return this.offset;
  }
  restoreState(offset: unknown): void {
    this.offset = offset as number;
  }
}

// Referenced so that every job module imports them (the map classes may use them).
void existsSync, writeFileSync;
const builder = StreamingContext.builder();
for (const [k, v] of Object.entries(${JSON.stringify(options)})) builder.option(k, v);
const ctx = builder.build();
ctx
  .source(new PacedLines())
  .setParallelism(2)
  .flatMap((line: string) => line.split(/\\s+/).filter((w) => w.length > 0))
  .map(new PairMap())
  .disableChain()
  .keyBy((p) => p[0])
  .reduce((a, b): [string, number] => [a[0], a[1] + b[1]])
  .setParallelism(2)
  .filter((p) => !p[0].includes('ray'))
  .sink(new FileSink<[string, number]>({ dir: ${JSON.stringify(out)} }))
  .setParallelism(1);
await ctx.execute('busy_word_count');
`;
}

/** Blocks its thread for 1 ms every 10 records (item 9 of issue 17). */
export const BLOCKING_MAP = `
class PairMap {
  private n = 0;
  private readonly cell = new Int32Array(new SharedArrayBuffer(4));
  map(w: string): [string, number] {
    if (++this.n % 10 === 0) Atomics.wait(this.cell, 0, 0, 1);
    return [w, 1];
  }
}`;

/**
 * In the first attempt of map task #0, at its 2,000th word, runs a synchronous loop of `ms`
 * (once: a marker file keeps any later attempt from doing it again).
 */
export function slowOnceMap(marker: string, ms: number): string {
  return `
class PairMap {
  private n = 0;
  private armed = false;
  open(ctx: RuntimeContext): void {
    this.armed = ctx.attempt === 0 && ctx.taskIndex === 0 && !existsSync(${JSON.stringify(marker)});
  }
  map(w: string): [string, number] {
    if (this.armed && ++this.n === 2000) {
      this.armed = false;
      writeFileSync(${JSON.stringify(marker)}, String(process.pid));
      const end = Date.now() + ${ms};
      while (Date.now() < end) {
        // busy: the thread is held, nothing else of this worker runs
      }
    }
    return [w, 1];
  }
}`;
}

/** Ids of the workers the coordinator declared lost, from its structured log (stderr). */
export function workersDeclaredLost(coordinatorStderr: string): string[] {
  const lost: string[] = [];
  for (const line of coordinatorStderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: { level?: number; msg?: string; workerId?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.level === 50 && typeof entry.workerId === 'string' && /^worker \S+ .*\blost\b/.test(entry.msg ?? '')) lost.push(entry.workerId);
  }
  return lost;
}

/** A metric's value from a Prometheus text exposition (the first series matching `labels`). */
export function metricValue(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels !== '' && !rest.includes(labels)) continue;
    return Number(rest.slice(rest.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** Every id in `lost` is one of `killed`. */
export function expectOnlyKilledLost(lost: readonly string[], killed: readonly string[]): void {
  expect(lost.filter((id) => !killed.includes(id)), 'workers declared lost that were not killed').toEqual([]);
}

/** Bytes a FileSink of `[word, count]` lines holds once every update of `reference` is committed. */
export function expectedSinkBytes(reference: ReadonlyMap<string, number>): number {
  let bytes = 0;
  for (const [word, count] of reference) for (let c = 1; c <= count; c++) bytes += Buffer.byteLength(JSON.stringify([word, c])) + 1;
  return bytes;
}

/** Bytes of the committed (visible) files of a FileSink folder. */
export function committedSinkBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let bytes = 0;
  for (const f of readdirSync(dir)) if (!f.startsWith('.')) bytes += statSync(join(dir, f)).size;
  return bytes;
}
