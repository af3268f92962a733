import { afterAll, describe, expect, it } from 'vitest';
import { StreamingContext } from 'mobius';
import { corpusPath, readText, referenceCounts, sortedEntries, tempDir } from './helpers.js';

type Pair = [string, number];

interface Parallelism {
  source: number;
  flatMap: number;
  map: number;
  reduce: number;
  filter: number;
}

const uniform = (p: number): Parallelism => ({ source: p, flatMap: p, map: p, reduce: p, filter: p });

/**
 * The seed's word count with a parallelism per operator, read with executeAndCollect(); keeps each
 * word's highest count. The collect sink runs at its input's (the filter's) parallelism.
 */
async function wordCount(source: (ctx: StreamingContext) => ReturnType<StreamingContext['readTextFile']>, p: Parallelism): Promise<Map<string, number>> {
  const ctx = StreamingContext.builder().build();
  const updates = await source(ctx)
    .setParallelism(p.source)
    .flatMap((line: string) => line.split(/\s+/).filter((w) => w.length > 0))
    .setParallelism(p.flatMap)
    .map((w): Pair => [w, 1])
    .setParallelism(p.map)
    .keyBy((pair) => pair[0])
    .reduce((a, b): Pair => [a[0], a[1] + b[1]])
    .setParallelism(p.reduce)
    .filter((pair) => !pair[0].includes('ray'))
    .setParallelism(p.filter)
    .executeAndCollect('word_count');
  // reduce emits every update; with a filter parallelism other than the reduce's, updates of one
  // word may arrive out of order, so keep the highest (counts only grow).
  const counts = new Map<string, number>();
  for (const [w, n] of updates) if ((counts.get(w) ?? 0) < n) counts.set(w, n);
  return counts;
}

describe('word count against a reference count', () => {
  const text = readText(corpusPath);
  const reference = sortedEntries(referenceCounts(text));
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();

  it('the reference itself is non-trivial', () => {
    expect(reference.length).toBeGreaterThan(1000);
    expect(reference.some(([w]) => w === 'the')).toBe(true);
    expect(text).toContain('ray');
  });

  for (const p of [1, 2, 4]) {
    it(`readTextFile at parallelism ${p} for every operator`, async () => {
      const counts = await wordCount((ctx) => ctx.readTextFile(corpusPath), uniform(p));
      expect(sortedEntries(counts)).toEqual(reference);
    });

    it(`fromCollection at parallelism ${p} for every operator`, async () => {
      const counts = await wordCount((ctx) => ctx.fromCollection(lines), uniform(p));
      expect(sortedEntries(counts)).toEqual(reference);
    });
  }

  it('mixed parallelism across operators (rebalance and key edges between them)', async () => {
    const counts = await wordCount((ctx) => ctx.readTextFile(corpusPath), { source: 3, flatMap: 2, map: 4, reduce: 3, filter: 2 });
    expect(sortedEntries(counts)).toEqual(reference);
  });
});

describe('readTextFile reads every line exactly once', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  const cases: [string, string | Buffer][] = [
    ['plain.txt', 'alpha beta\ngamma\n\ndelta epsilon zeta\n'],
    ['no-final-newline.txt', 'one\ntwo\nthree'],
    ['crlf.txt', 'one two\r\nthree\r\n\r\nfour\r\n'],
    ['unicode.txt', 'héllo wörld\n日本語 テキスト\n😀 emoji 😀\nçà va\n'.repeat(50)],
    ['tiny.txt', 'x\n'],
    ['empty.txt', ''],
    ['only-newlines.txt', '\n\n\n\n\n'],
    ['long-lines.txt', `${'a'.repeat(3_000_000)}\nshort\n${'b '.repeat(1_500_000)}\nend`],
    ['many-lines.txt', Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 97)}`).join('\n')],
  ];

  for (const [name, content] of cases) {
    for (const p of [1, 2, 3, 4, 7]) {
      it(`${name} at parallelism ${p}`, async () => {
        const path = tmp.file(name, content);
        const expected = content.toString().split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
        if (expected[expected.length - 1] === '') expected.pop();
        const ctx = StreamingContext.builder().build();
        const seen = await ctx.readTextFile(path).setParallelism(p).executeAndCollect('lines');
        expect(seen.length).toBe(expected.length);
        expect([...seen].sort()).toEqual([...expected].sort());
      });
    }
  }
});
