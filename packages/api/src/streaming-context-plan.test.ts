import { ConfigError } from '@mobius/interface';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamingContext } from './streaming-context.js';
import { resetRunners, wordCount } from './test-context.js';

beforeEach(resetRunners);
afterEach(resetRunners);

describe('plan, explain and graph hash', () => {
  it('sources take parallelism.default and other operators inherit their first input', () => {
    const ctx = StreamingContext.builder().option('parallelism.default', 3).build();
    const a = ctx.fromValues(1);
    const b = ctx.fromValues(2).setParallelism(5);
    const m = a.map((x) => x);
    const u = m.union(b);
    const s = u.map((x) => x).setParallelism(2).sink(() => {});
    const plan = ctx.plan('p');
    const p = Object.fromEntries(plan.operators.map((o) => [o.id, o.parallelism]));
    expect(p).toEqual({ 'source-1': 3, 'source-2': 5, [m.id]: 3, [u.id]: 3, 'map-5': 2, [s.id]: 2 });
    expect(plan.jobName).toBe('p');
  });

  it('default partitioning is forward between equal parallelism, else rebalance', () => {
    const ctx = StreamingContext.builder().build();
    ctx
      .fromValues(1)
      .map((x) => x)
      .map((x) => x)
      .setParallelism(2)
      .sink(() => {});
    const kinds = Object.fromEntries(ctx.plan().edges.map((e) => [e.id, e.partition]));
    expect(kinds).toEqual({ 'source-1->map-2': 'forward', 'map-2->map-3': 'rebalance', 'map-3->sink-4': 'forward' });
  });

  it('plan() throws the validation errors synchronously', () => {
    const ctx = StreamingContext.builder().option('nope', 1).build();
    ctx.fromValues(1).sink(() => {});
    expect(() => ctx.plan()).toThrow(ConfigError);
  });

  it("explain('mermaid') is a Mermaid flowchart; explain() is text naming the job and operators", () => {
    const ctx = StreamingContext.builder().build();
    wordCount(ctx);
    const mermaid = ctx.explain('mermaid');
    expect(mermaid.startsWith('flowchart LR')).toBe(true);
    expect(mermaid).toContain('reduce');
    const text = ctx.explain('text', 'word_count');
    expect(text).toContain('"word_count"');
    expect(text).toContain('reduce-4');
    expect(ctx.explain()).toBe(ctx.explain('text', 'job'));
  });

  it('two contexts building the same job have the same graph hash', () => {
    const a = StreamingContext.builder().option('parallelism.default', 2).build();
    const b = StreamingContext.builder().option('parallelism.default', 2).build();
    wordCount(a, 3);
    wordCount(b, 3);
    const hash = a.plan().graphHash;
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.plan().graphHash).toBe(hash);
  });

  it('the graph hash differs when a parallelism differs', () => {
    const a = StreamingContext.builder().build();
    const b = StreamingContext.builder().build();
    wordCount(a, 2);
    wordCount(b, 4);
    expect(a.plan().graphHash).not.toBe(b.plan().graphHash);
  });
});
