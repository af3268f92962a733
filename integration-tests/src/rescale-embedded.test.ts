import { afterAll, describe, expect, it } from 'vitest';
import { StreamingContext, type SourceContext } from 'mobius';
import { tempDir } from './helpers.js';

type Pair = [string, number];
const WORDS = Array.from({ length: 200 }, (_, i) => `w${(i * 7919) % 1000}`);
const PHASE = 6_000;

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
  });
});
