import { afterAll, describe, expect, it } from 'vitest';
import { StreamingContext, listState, type ListState, type RuntimeContext, type SourceContext } from 'mobius';
import { tempDir } from './helpers.js';

type Pair = [string, number];
const WORDS = Array.from({ length: 200 }, (_, i) => `w${(i * 7919) % 1000}`);
const PHASE = 6_000;

/** What a task of the rescaled vertex found in its operator and union list state when it opened. */
interface Opened {
  readonly attempt: number;
  readonly index: number;
  readonly spread: readonly string[];
  readonly union: readonly string[];
}

/**
 * Chained after the reduce (so rescaled with it): on its first attempt each task puts 100
 * elements in its operator list state; every task adds its mark (`t<index>@<attempt>`) to its
 * union list state. What each task finds when it opens is recorded.
 */
class StateProbe {
  constructor(private readonly opened: Opened[]) {}
  open(ctx: RuntimeContext): void {
    const spread: ListState<string> = ctx.getOperatorState(listState<string>('spread'));
    const union: ListState<string> = ctx.getUnionOperatorState(listState<string>('union'));
    this.opened.push({ attempt: ctx.attempt, index: ctx.taskIndex, spread: [...spread.get()], union: [...union.get()] });
    if (ctx.attempt === 0) spread.addAll(Array.from({ length: 100 }, (_, j) => `e${ctx.taskIndex}-${j}`));
    union.add(`t${ctx.taskIndex}@${ctx.attempt}`);
  }
  map(p: Pair): Pair {
    return p;
  }
}

/** A gate the source waits at between phases: the test opens it after each rescale. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe('live rescaling in embedded mode (job.rescale)', () => {
  const tmp = tempDir('mobius-rescale-');
  afterAll(() => tmp.remove());

  // The sink chained to the reduce (rescaled with it), or on its own at parallelism 1: its input
  // channels from the reduce are replaced at each rescale barrier (the plan channel ids come back).
  for (const separateSink of [false, true]) it(`rescales a keyed reduce 2 → 3 → 1 while the job runs (${separateSink ? 'a sink of its own' : 'the sink chained'}): every running count exactly once, the source task untouched`, { timeout: 120_000 }, async () => {
    const gates = [gate(), gate()];
    const seen: Pair[] = [];
    const opened: Opened[] = [];
    const emitted: string[] = [];
    const ctx = StreamingContext.builder().option('checkpoint.interval.ms', 200).option('checkpoint.dir', tmp.dir).option('execution.threads', 0).build();
    ctx
      .source<string>({
        async run(sc: SourceContext<string>) {
          const emit = async (): Promise<void> => {
            const word = WORDS[emitted.length % WORDS.length];
            emitted.push(word);
            const wait = sc.collect(word);
            if (wait) await wait;
          };
          for (let phase = 0; phase < 3; phase++) {
            for (let i = 0; i < PHASE; i++) await emit();
            // Between phases it trickles (a record a millisecond) until the test opens the gate:
            // barriers are taken between records, so the rescale's checkpoint goes through.
            if (phase < 2) {
              let open = false;
              void gates[phase].wait.then(() => (open = true));
              while (!open) {
                await emit();
                await new Promise((r) => setTimeout(r, 1));
              }
            }
          }
        },
      })
      .setParallelism(1)
      .name('words')
      .map((w): Pair => [w, 1])
      .keyBy((p) => p[0])
      .reduce((a, b): Pair => [a[0], a[1] + b[1]])
      .name('count')
      .setParallelism(2)
      .map(new StateProbe(opened))
      .sink((p) => void seen.push(p))
      .setParallelism(separateSink ? 1 : 2);
    const job = await ctx.submit('rescale-embedded');
    const sourceAttempt = (): number | undefined => job.metrics().find((m) => m.vertexName.startsWith('words'))?.attempt;
    const until = async (what: string, ok: () => boolean): Promise<void> => {
      for (let i = 0; !ok(); i++) {
        if (i > 20_000) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setImmediate(r));
      }
    };

    await until('the first phase', () => seen.length >= PHASE);
    const up = await job.rescale('count', 3);
    expect(up).toMatchObject({ kind: 'rescale', operator: 'count', from: 2, to: 3, trigger: 'user' });
    expect(up.keyGroupsMoved).toBe(63); // of 128: 43..63 go from task 0 to 1, 86..127 from 1 to 2
    expect(up.pausedMs).toBeLessThanOrEqual(up.durationMs);
    expect(job.metrics().filter((m) => m.taskId.startsWith(up.vertex)).length).toBe(3);
    gates[0].open();

    await until('the second phase', () => seen.length >= 2 * PHASE);
    const down = await job.rescale('count', 1);
    expect(down).toMatchObject({ from: 3, to: 1 });
    gates[1].open();
    const result = await job.result();
    expect(result.state).toBe('FINISHED');
    expect(sourceAttempt()).toBe(0);

    // Reference: the running count of every word, each value 1..n exactly once.
    const expected = new Map<string, number>();
    for (const w of emitted) expected.set(w, (expected.get(w) ?? 0) + 1);
    const counts = new Map<string, number[]>();
    for (const [w, n] of seen) counts.set(w, [...(counts.get(w) ?? []), n]);
    expect(emitted.length).toBeGreaterThanOrEqual(3 * PHASE);
    expect(seen.length).toBe(emitted.length);
    for (const [w, n] of expected) expect((counts.get(w) ?? []).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));

    // Operator list state (spread over key groups): 2 × 100 elements, split over the 3 new tasks
    // (each gets some, every element once), then merged into the 1 task of the last rescale.
    const at = (attempt: number) => opened.filter((o) => o.attempt === attempt).sort((a, b) => a.index - b.index);
    const all = Array.from({ length: 2 }, (_, t) => Array.from({ length: 100 }, (_, j) => `e${t}-${j}`)).flat().sort();
    expect(at(1)).toHaveLength(3);
    for (const o of at(1)) expect(o.spread.length).toBeGreaterThan(0);
    expect(at(1).flatMap((o) => o.spread).sort()).toEqual(all);
    expect(at(2)).toHaveLength(1);
    expect([...at(2)[0].spread].sort()).toEqual(all);
    // Union list state: every new task gets every old task's list.
    for (const o of at(1)) expect([...o.union].sort()).toEqual(['t0@0', 't1@0']);
    const afterTwo = at(1).flatMap((o) => [...o.union, `t${o.index}@1`]).sort();
    expect([...at(2)[0].union].sort()).toEqual(afterTwo);
  });
});
