import { describe, it, expect } from 'vitest';
import { createPlan } from './create-plan.js';
import { explain } from './explain.js';
import { edge, graph, node, wordCount } from './test-graph.js';

const plan = createPlan(wordCount({ sourceP: 2, reduceP: 3, config: { 'parallelism.default': 2 } }), 'word_count');

describe('explain (text)', () => {
  const text = explain(plan, 'text');

  it('is the default format', () => {
    expect(explain(plan)).toBe(text);
  });

  it('names the job, the graph hash and the totals', () => {
    const first = text.split('\n')[0];
    expect(first).toContain('Job "word_count"');
    expect(first).toContain(plan.graphHash);
    expect(first).toContain('2 chained vertices');
    expect(first).toContain('5 tasks');
    expect(first).toContain('6 channels');
    expect(first).toContain('max parallelism 128');
  });

  it('lists each vertex with its name and parallelism', () => {
    expect(text).toContain('[source-0] readTextFile -> split -> pair  parallelism 2');
    expect(text).toContain('[reduce-3] count -> no ray -> print  parallelism 3');
    for (const v of plan.vertices) expect(text).toContain(`${v.name}  parallelism ${v.parallelism}`);
  });

  it('shows the key groups of keyed vertices only', () => {
    expect(text).toContain('parallelism 3, key groups 0-42, 43-85, 86-127');
    expect(text).not.toMatch(/parallelism 2, key groups/);
  });

  it('lists every operator of a vertex with kind and name', () => {
    for (const o of plan.operators) expect(text).toContain(`${o.id}: ${o.kind} "${o.name}"`);
  });

  it('shows the partition kind and channel count of every unchained edge', () => {
    expect(text).toContain('--key--> [reduce-3] (6 channels)');
    const g = graph(
      [node('src-0', 'source', { parallelism: 2 }), node('map-1', 'map', { parallelism: 3 }), node('out-2', 'sink', { parallelism: 3 })],
      [edge('src-0', 'map-1'), edge('map-1', 'out-2', 'broadcast', { explicit: true })],
    );
    const t = explain(createPlan(g, 'kinds'));
    expect(t).toContain('--rebalance--> [map-1] (6 channels)');
    expect(t).toContain('--broadcast--> [out-2] (9 channels)');
  });

  it('says "1 channel" in the singular', () => {
    const g = graph([node('src-0', 'source'), node('map-1', 'map', { chaining: false })], [edge('src-0', 'map-1')]);
    expect(explain(createPlan(g))).toContain('--forward--> [map-1] (1 channel)');
  });

  it('shows operator config', () => {
    const g = graph([node('src-0', 'source'), node('map-1', 'map', { config: { 'runtime.batch.size': 16 } })], [edge('src-0', 'map-1')]);
    expect(explain(createPlan(g))).toContain('map-1: map "map-1"  {runtime.batch.size=16}');
  });
});

describe('explain (mermaid)', () => {
  const mermaid = explain(plan, 'mermaid');
  const lines = mermaid.split('\n');

  it('starts with flowchart LR', () => {
    expect(lines[0]).toBe('flowchart LR');
  });

  it('has one subgraph per vertex, closed by end, naming the vertex and its parallelism', () => {
    const subgraphs = lines.filter((l) => l.trim().startsWith('subgraph '));
    expect(subgraphs).toHaveLength(plan.vertices.length);
    expect(lines.filter((l) => l.trim() === 'end')).toHaveLength(plan.vertices.length);
    expect(subgraphs[0]).toBe('  subgraph v_source_0["readTextFile -> split -> pair ×2"]');
    expect(subgraphs[1]).toBe('  subgraph v_reduce_3["count -> no ray -> print ×3"]');
  });

  it('declares every operator inside its vertex subgraph', () => {
    for (const v of plan.vertices) {
      const start = lines.findIndex((l) => l.startsWith(`  subgraph v_${v.id.replace(/[^A-Za-z0-9_]/g, '_')}[`));
      const end = lines.indexOf('  end', start);
      const body = lines.slice(start + 1, end);
      expect(body).toHaveLength(v.operatorIds.length);
      for (const id of v.operatorIds) expect(body.some((l) => l.trim().startsWith(`${id.replace(/[^A-Za-z0-9_]/g, '_')}["`))).toBe(true);
    }
  });

  it('has one edge line per plan edge, labelled with the partition when unchained', () => {
    const edgeLines = lines.filter((l) => / (-->|==>) /.test(l));
    expect(edgeLines).toHaveLength(plan.edges.length);
    expect(edgeLines).toContain('  source_0 --> flatMap_1');
    expect(edgeLines).toContain('  map_2 -- "key" ==> reduce_3');
    expect(edgeLines).toContain('  filter_4 --> sink_5');
  });

  it('escapes double quotes in names', () => {
    const g = graph([node('src-0', 'source', { name: 'say "hi"' }), node('sink-1', 'sink')], [edge('src-0', 'sink-1')]);
    const m = explain(createPlan(g), 'mermaid');
    expect(m).toContain('say #quot;hi#quot;');
    expect(m).not.toContain('"hi"');
  });
});
