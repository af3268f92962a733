import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/** For `pacedWordCountJob`'s `pairMap`: blocks its thread for 1 ms every 10 records (item 9 of issue 17). */
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
 * For `pacedWordCountJob`'s `pairMap`. In the first attempt of map task #0, at its 2,000th word, runs a synchronous loop of `ms`
 * (once: a marker file keeps any later attempt from doing it again).
 */
export function slowOnceMap(marker: string, ms: number): string {
  return `
class PairMap {
  private n = 0;
  private armed = false;
  open(ctx: RuntimeContext): void {
    this.armed = ctx.attempt === 0 && ctx.taskIndex === 0 && !process.getBuiltinModule('node:fs').existsSync(${JSON.stringify(marker)});
  }
  map(w: string): [string, number] {
    if (this.armed && ++this.n === 2000) {
      this.armed = false;
      process.getBuiltinModule('node:fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid));
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
