import { PlanError } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { createPlan } from './create-plan.js';
import { explain } from './explain.js';
import { graphHash } from './graph-hash.js';
import { edge, graph, node } from './test-graph.js';

const groupsOf = (g: Parameters<typeof createPlan>[0]): Record<string, string | undefined> =>
  Object.fromEntries(createPlan(g).vertices.map((v) => [v.id, v.slotSharingGroup]));

describe('slot-sharing groups in the plan', () => {
  it('puts every vertex in "default" when no operator names a group', () => {
    const g = graph([node('s', 'source', { parallelism: 2 }), node('m', 'map', { chaining: false }), node('k', 'sink', { parallelism: 3 })], [edge('s', 'm'), edge('m', 'k')]);
    expect(groupsOf(g)).toEqual({ s: 'default', m: 'default', k: 'default' });
  });

  it('lets a downstream operator inherit its input\'s group unless it sets one (Flink\'s rule)', () => {
    const g = graph(
      [
        node('s', 'source', { parallelism: 2 }),
        node('m', 'map', { parallelism: 3, slotSharingGroup: 'heavy' }),
        node('f', 'filter', { parallelism: 4 }),
        node('k', 'sink', { parallelism: 1, slotSharingGroup: 'default' }),
      ],
      [edge('s', 'm'), edge('m', 'f'), edge('f', 'k')],
    );
    expect(groupsOf(g)).toEqual({ s: 'default', m: 'heavy', f: 'heavy', k: 'default' });
  });

  it('puts an operator whose inputs are in different groups in "default"', () => {
    const g = graph(
      [node('a', 'source'), node('b', 'source', { slotSharingGroup: 'x' }), node('bm', 'map'), node('u', 'union', { parallelism: 2 }), node('k', 'sink')],
      [edge('a', 'u'), edge('b', 'bm'), edge('bm', 'u'), edge('u', 'k')],
    );
    const groups = groupsOf(g);
    expect(groups.b).toBe('x');
    expect(groups.u).toBe('default');
  });

  it('never chains operators of different groups', () => {
    const g = graph([node('s', 'source'), node('m', 'map', { slotSharingGroup: 'other' }), node('k', 'sink')], [edge('s', 'm'), edge('m', 'k')]);
    const plan = createPlan(g);
    expect(plan.vertices.map((v) => v.operatorIds)).toEqual([['s'], ['m', 'k']]);
    expect(plan.edges.find((e) => e.id === 's->m')?.chained).toBe(false);
    expect(explain(plan)).toContain('slot sharing group "other"');
  });

  it('rejects an empty group name with PLAN_INVALID_SLOT_SHARING_GROUP naming the operator', () => {
    const g = graph([node('s', 'source'), node('m', 'map', { slotSharingGroup: ' ' })], [edge('s', 'm')]);
    let error: unknown;
    try {
      createPlan(g);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlanError);
    expect(error).toMatchObject({ code: 'PLAN_INVALID_SLOT_SHARING_GROUP', operatorId: 'm' });
    expect((error as Error).message).toContain('m');
  });

  it('keeps the hash of a graph without groups and changes it when a group is set', () => {
    const plain = graph([node('s', 'source'), node('k', 'sink')], [edge('s', 'k')]);
    const grouped = graph([node('s', 'source'), node('k', 'sink', { slotSharingGroup: 'x' })], [edge('s', 'k')]);
    expect(graphHash(plain)).not.toBe(graphHash(grouped));
    expect(graphHash(plain)).toBe(graphHash(graph([node('s', 'source'), node('k', 'sink')], [edge('s', 'k')])));
  });
});
