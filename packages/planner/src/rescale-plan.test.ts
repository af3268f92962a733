import { expectPlanError } from '@mobius/testkit';
import { describe, expect, it } from 'vitest';
import { createPlan } from './create-plan.js';
import { planWithOverrides, rescaleDiff, rescalePlan, vertexOfOperator } from './rescale-plan.js';
import { edge, graph, node, wordCount } from './test-graph.js';

/** A keyed reduce between a source and a sink that does not chain: the reduce has channels on both sides. */
function middle(): ReturnType<typeof graph> {
  return graph(
    [node('src', 'source', { parallelism: 2 }), node('reduce', 'reduce', { name: 'sum', parallelism: 2 }), node('sink', 'sink', { parallelism: 2, chaining: false })],
    [edge('src', 'reduce', 'key'), edge('reduce', 'sink')],
  );
}

describe('rescalePlan', () => {
  it('sets the parallelism of every operator of the vertex; key groups are split anew, the graph hash stays', () => {
    const g = wordCount({ sourceP: 2, reduceP: 2 });
    const before = createPlan(g, 'wc');
    const { plan, overrides, vertex, from } = rescalePlan(g, 'wc', {}, 'reduce-3', 3);
    expect(vertex.id).toBe('reduce-3');
    expect(from).toBe(2);
    expect(overrides).toEqual({ 'reduce-3': 3 });
    expect(plan.graphHash).toBe(before.graphHash);
    expect(plan.vertices.find((v) => v.id === 'reduce-3')!.parallelism).toBe(3);
    for (const id of ['reduce-3', 'filter-4', 'sink-5']) expect(plan.operators.find((o) => o.id === id)!.parallelism).toBe(3);
    expect(plan.vertices.find((v) => v.id === 'source-0')!.parallelism).toBe(2);
    const ranges = plan.tasks.filter((t) => t.vertexId === 'reduce-3').map((t) => t.keyGroups);
    expect(ranges[0].start).toBe(0);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i].start).toBe(ranges[i - 1].end + 1);
    expect(ranges.at(-1)!.end).toBe(plan.maxParallelism - 1);
    // The same plan from the overrides alone (what every process computes).
    expect(planWithOverrides(g, 'wc', overrides)).toEqual(plan);
  });

  it('rescales again on top of earlier rescales', () => {
    const g = wordCount({ sourceP: 2, reduceP: 2 });
    const first = rescalePlan(g, 'wc', {}, 'reduce-3', 3);
    const second = rescalePlan(g, 'wc', first.overrides, 'reduce-3', 1);
    expect(second.from).toBe(3);
    expect(second.plan.tasks.filter((t) => t.vertexId === 'reduce-3').map((t) => t.keyGroups)).toEqual([{ start: 0, end: 127 }]);
  });

  it('refuses a parallelism below 1, not an integer, or above job.max-parallelism (naming both)', () => {
    const g = wordCount({ reduceP: 2 });
    expect(expectPlanError(() => rescalePlan(g, 'wc', {}, 'reduce-3', 0)).code).toBe('PLAN_INVALID_PARALLELISM');
    expect(expectPlanError(() => rescalePlan(g, 'wc', {}, 'reduce-3', 1.5)).code).toBe('PLAN_INVALID_PARALLELISM');
    const tooHigh = expectPlanError(() => rescalePlan(g, 'wc', {}, 'reduce-3', 129));
    expect(tooHigh.code).toBe('PLAN_MAX_PARALLELISM');
    expect(tooHigh.message).toContain('129');
    expect(tooHigh.message).toContain('128');
  });

  it('keeps the parallelism of a vertex that takes its input\'s (no parallelism of its own): only the rescaled vertex changes', () => {
    const g = graph([node('src', 'source', { parallelism: 1 }), node('map', 'map', { parallelism: 1, chaining: false }), node('sink', 'sink', {})], [edge('src', 'map'), edge('map', 'sink')]);
    const { plan, overrides } = rescalePlan(g, 'j', {}, 'map', 2);
    expect(plan.vertices.map((v) => [v.id, v.parallelism])).toEqual([
      ['src', 1],
      ['map', 2],
      ['sink', 1],
    ]);
    expect(plan.tasks.filter((t) => t.vertexId === 'sink')).toHaveLength(1);
    expect(planWithOverrides(g, 'j', overrides)).toEqual(plan);
    expect(rescalePlan(g, 'j', overrides, 'map', 1).plan.vertices.find((v) => v.id === 'sink')!.parallelism).toBe(1);
  });

  it('keeps the running plan\'s vertices and partitioning: a vertex rescaled to its neighbour\'s parallelism does not chain with it', () => {
    const g = graph([node('src', 'source', { parallelism: 2 }), node('map', 'map', { parallelism: 3 }), node('sink', 'sink', { parallelism: 3 })], [edge('src', 'map'), edge('map', 'sink')]);
    const before = createPlan(g, 'j');
    const { plan } = rescalePlan(g, 'j', {}, 'map', 2);
    expect(plan.vertices.map((v) => v.operatorIds)).toEqual(before.vertices.map((v) => v.operatorIds));
    const srcToMap = plan.edges.find((e) => e.sourceOperator === 'src')!;
    expect(srcToMap).toMatchObject({ partition: before.edges.find((e) => e.sourceOperator === 'src')!.partition, chained: false });
    // rebalance 2 → 2: every source task writes to every map task.
    expect(plan.channels.filter((c) => c.edgeId === srcToMap.id)).toHaveLength(4);
    // A fresh plan at those parallelisms would have chained them.
    expect(createPlan(g, 'j', { parallelism: { map: 2, sink: 2 } }).vertices).toHaveLength(1);
  });
});

describe('vertexOfOperator', () => {
  it('finds the vertex by operator id, uid or unique name; a chained operator gives its chain', () => {
    const g = wordCount({ reduceP: 2 });
    const plan = createPlan(g, 'wc');
    expect(vertexOfOperator(g, plan, 'reduce-3').id).toBe('reduce-3');
    expect(vertexOfOperator(g, plan, 'count').id).toBe('reduce-3');
    expect(vertexOfOperator(g, plan, 'filter-4').id).toBe('reduce-3');
    const unknown = expectPlanError(() => vertexOfOperator(g, plan, 'nope'));
    expect(unknown.code).toBe('PLAN_UNKNOWN_OPERATOR');
    expect(unknown.message).toContain('"nope"');
    expect(unknown.message).toContain('reduce-3 "count"');
  });
});

describe('rescaleDiff', () => {
  it('replaces every channel between the vertex and its neighbours, on both sides', () => {
    const g = middle();
    const before = createPlan(g, 'j');
    const { plan: after } = rescalePlan(g, 'j', {}, 'reduce', 3);
    const diff = rescaleDiff(before, after, 'reduce');
    expect(diff.oldTasks.map((t) => t.id)).toEqual(['reduce#0', 'reduce#1']);
    expect(diff.newTasks.map((t) => t.id)).toEqual(['reduce#0', 'reduce#1', 'reduce#2']);
    for (const i of [0, 1]) {
      const up = diff.changes.get(`src#${i}`)!;
      expect(up.removeOutputs).toEqual([`src->reduce:${i}->0`, `src->reduce:${i}->1`]);
      expect(up.addOutputs.map((c) => c.id)).toEqual([`src->reduce:${i}->0`, `src->reduce:${i}->1`, `src->reduce:${i}->2`]);
      expect(up.addInputs).toEqual([]);
      // Downstream: the forward edge (equal parallelism) becomes rebalance at 3 → 2.
      const down = diff.changes.get(`sink#${i}`)!;
      expect(down.removeInputs).toEqual([`reduce->sink:${i}->${i}`]);
      expect(down.addInputs.map((c) => c.id)).toEqual([`reduce->sink:0->${i}`, `reduce->sink:1->${i}`, `reduce->sink:2->${i}`]);
    }
    expect(diff.changedEdges.map((e) => [e.id, e.partition])).toEqual([['reduce->sink', 'rebalance']]);
    expect([...diff.changes.keys()].some((id) => id.startsWith('reduce#'))).toBe(false);
  });
});
