import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { Api } from './cluster-helpers.js';

/**
 * The seed's word count into the exactly-once FileSink (sink parallelism 1), fed by a paced
 * source at parallelism 2 that reads its share of the corpus's lines (a line i belongs to task
 * i % 2) a few lines at a time, so that the job runs long enough for several failures; or, with
 * `'unpaced'`, by readTextFile at full speed.
 * `pairMap`: the source text of a class `PairMap` whose `map(word)` makes the `[word, 1]` pairs,
 * run in tasks of its own (chaining disabled), instead of the plain function.
 * `pace.until`: a file; once it exists the source stops pacing and reads the rest of its lines at
 * full speed, so a test runs the job paced only while it injects failures, then lets it finish
 * ({@link releasePace}). With `pace.hold` as well, each source task keeps its last line until
 * then: the job cannot end before the test is done with it, however slow or fast the machine.
 */
export function pacedWordCountJob(
  input: string,
  out: string,
  options: Record<string, string | number>,
  pace: { lines: number; everyMs: number; until?: string; hold?: boolean } | 'unpaced',
  failAfter?: number,
  pairMap?: string,
): string {
  // Unpaced: the built-in readTextFile source at full speed (replay buffers and credits under pressure).
  const source = pace === 'unpaced' ? `.readTextFile(${JSON.stringify(input)})` : '.source(new PacedLines())';
  const { lines, everyMs } = pace === 'unpaced' ? { lines: 0, everyMs: 0 } : pace;
  const until = pace === 'unpaced' || pace.until === undefined ? 'false' : `existsSync(${JSON.stringify(pace.until)})`;
  // Lines held back until the release (only with one to wait for).
  const held = pace !== 'unpaced' && pace.until !== undefined && pace.hold === true ? 1 : 0;
  return `
import { existsSync, readFileSync } from 'node:fs';
import { FileSink, StreamingContext, type RuntimeContext, type SourceContext, type SourceFunction } from 'mobius';

/** Throws once, in the first attempt of task #0, after some words (a task error, not a lost worker). */
class FailOnce {
  private seen = 0;
  private armed = false;
  open(ctx: RuntimeContext): void {
    this.armed = ctx.attempt === 0 && ctx.taskIndex === 0;
  }
  map(w: string): string {
    if (this.armed && ++this.seen > ${failAfter ?? -1} && ${failAfter ?? -1} >= 0) throw new Error('injected failure');
    return w;
  }
}

${pairMap ?? ''}

class PacedLines implements SourceFunction<string> {
  private lines: string[] = [];
  private offset = 0;
  private released = false;
  init(parallelism: number, index: number): void {
    this.lines = readFileSync(${JSON.stringify(input)}, 'utf8').split('\\n').filter((_, i) => i % parallelism === index);
  }
  async fetch(ctx: SourceContext<string>): Promise<void> {
    if (this.offset >= this.lines.length) {
      ctx.end();
      return;
    }
    this.released ||= ${until};
    const last = this.released ? this.lines.length : this.lines.length - ${held};
    const end = Math.min(last, this.offset + (this.released ? 200 : ${lines}));
    for (; this.offset < end; this.offset++) ctx.collect(this.lines[this.offset]);
    if (!this.released) await new Promise((r) => setTimeout(r, ${everyMs}));
  }
  snapshotState(): number {
    return this.offset;
  }
  restoreState(offset: unknown): void {
    this.offset = offset as number;
  }
}

const builder = StreamingContext.builder();
for (const [k, v] of Object.entries(${JSON.stringify(options)})) builder.option(k, v);
const ctx = builder.build();
ctx
  ${source}
  .setParallelism(2)
  .flatMap((line: string) => line.split(/\\s+/).filter((w) => w.length > 0))
  ${failAfter === undefined ? '' : '.map(new FailOnce())'}
  ${pairMap === undefined ? '.map((w: string): [string, number] => [w, 1])' : '.map(new PairMap())\n  .disableChain()'}
  .keyBy((p) => p[0])
  .reduce((a, b): [string, number] => [a[0], a[1] + b[1]])
  .setParallelism(2)
  .filter((p) => !p[0].includes('ray'))
  .sink(new FileSink<[string, number]>({ dir: ${JSON.stringify(out)} }))
  .setParallelism(1);
await ctx.execute('failover_word_count');
`;
}

export interface FailoverTask {
  taskId: string;
  vertex: string;
  index: number;
  state: string;
  workerId: string;
  attempt: number;
  recordsIn: number;
  recordsProcessed: number;
}

export interface FailoverJob {
  id: string;
  state: string;
  error: string | null;
  restarts: number;
  lastCheckpoint: number | null;
  tasks: FailoverTask[];
}

export interface RecoveryEvent {
  time: number;
  kind: string;
  strategy: string;
  tasks: string[];
  failed: string[];
  reason: string;
  durationMs: number | null;
  checkpointId: number | null;
}

export const job = async (api: Api, id: string): Promise<FailoverJob> => (await api.call<FailoverJob>('GET', `/jobs/${id}`)).body;
export const events = async (api: Api, id: string): Promise<RecoveryEvent[]> => (await api.call<RecoveryEvent[]>('GET', `/jobs/${id}/events`)).body;

/**
 * The job, which must be RUNNING `when` (e.g. "before kill 2"); otherwise throws with its state,
 * error and event log, so a test that injects failures never skips one silently.
 */
export async function runningJob(api: Api, id: string, when: string): Promise<FailoverJob> {
  const j = await job(api, id);
  if (j.state === 'RUNNING') return j;
  throw new Error(`the job is ${j.state} ${when} (error: ${j.error}; restarts: ${j.restarts}); events: ${JSON.stringify(await events(api, id))}`);
}

/** Polls until the condition holds (cluster state is only visible over HTTP). */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits for the job's recovery event `index` to have finished (its `durationMs` set), and returns it. */
export function finishedRecovery(api: Api, id: string, index = 0, what = 'the recovery event', timeoutMs?: number): Promise<RecoveryEvent> {
  return until(
    what,
    async () => {
      const e = (await events(api, id))[index];
      return e !== undefined && e.durationMs !== null ? e : undefined;
    },
    timeoutMs,
  );
}

/** Waits until the first checkpoint has committed part files into `out`. */
export function firstCommit(out: string): Promise<true> {
  return until('a committed checkpoint', async () => (existsSync(out) && readdirSync(out).some((f) => f.endsWith('.jsonl')) ? true : undefined));
}

/** The role of a task by its vertex name. */
export function role(t: FailoverTask): 'source' | 'reduce' | 'sink' | 'other' {
  if (t.vertex.startsWith('source')) return 'source';
  if (t.vertex.startsWith('reduce')) return 'reduce';
  if (t.vertex.startsWith('sink')) return 'sink';
  return 'other';
}

/**
 * Checks one single-task recovery: the event names `single-task` and exactly the victim's
 * tasks, and every other task kept its worker and attempt, and its records-processed count did
 * not go backwards.
 */
export function expectOnlyVictimRolledBack(before: FailoverJob, after: FailoverJob, victim: string, event: RecoveryEvent): void {
  const victimTasks = before.tasks.filter((t) => t.workerId === victim).map((t) => t.taskId).sort();
  expect(event.strategy).toBe('single-task');
  expect(event.kind).toBe('recovery');
  expect([...event.tasks].sort()).toEqual(victimTasks);
  expect(event.durationMs).toBeGreaterThanOrEqual(0);
  for (const t of before.tasks) {
    const now = after.tasks.find((a) => a.taskId === t.taskId)!;
    if (victimTasks.includes(t.taskId)) {
      expect(now.attempt).toBeGreaterThan(t.attempt);
      expect(now.workerId).not.toBe(victim);
      continue;
    }
    expect(now.workerId, `task ${t.taskId} moved`).toBe(t.workerId);
    expect(now.attempt, `task ${t.taskId} restarted`).toBe(t.attempt);
    expect(now.recordsProcessed, `task ${t.taskId} went backwards`).toBeGreaterThanOrEqual(t.recordsProcessed);
  }
}

/** Lets a job paced with `pace.until` read the rest of its input at full speed. */
export function releasePace(until: string): void {
  writeFileSync(until, '');
}
