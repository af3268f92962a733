import { describe, expect, it } from 'vitest';
import { PlanError } from '@mobius/interface';
import { orderVertices, type VertexLoad } from './vertex-load.js';

const v = (vertexId: string, upstream: string[], extra: Partial<VertexLoad> = {}): VertexLoad => ({
  vertexId,
  parallelism: 1,
  maxParallelism: 128,
  tasks: [],
  upstream,
  source: upstream.length === 0,
  ...extra,
});

describe('orderVertices', () => {
  it('puts every vertex after its inputs, whatever order they come in', () => {
    const ordered = orderVertices([v('sink', ['join']), v('join', ['a', 'b']), v('b', []), v('a', [])]).map((x) => x.vertexId);
    expect(ordered.indexOf('join')).toBeGreaterThan(Math.max(ordered.indexOf('a'), ordered.indexOf('b')));
    expect(ordered[ordered.length - 1]).toBe('sink');
  });

  it.each([
    ['an unknown upstream', [v('s', []), v('m', ['nope'])], 'PLAN_UNKNOWN_OPERATOR', /"m" reads from unknown vertex "nope"/],
    ['a cycle', [v('s', []), v('a', ['s', 'b']), v('b', ['a'])], 'PLAN_CYCLE', /cycle/],
    ['a source with an input', [v('s', []), v('t', ['s'], { source: true })], 'PLAN_CYCLE', /"t" is a source but reads from s/],
    ['a vertex without input', [v('s', []), v('m', [], { source: false })], 'PLAN_NO_INPUT', /"m" is not a source/],
    ['a parallelism of 0', [v('s', [], { parallelism: 0 })], 'PLAN_INVALID_PARALLELISM', /"s": parallelism must be an integer of at least 1 \(got 0\)/],
    ['a bad max parallelism', [v('s', [], { maxParallelism: 1.5 })], 'PLAN_MAX_PARALLELISM', /"s": max parallelism/],
    ['a vertex twice', [v('s', []), v('s', [])], 'PLAN_DUPLICATE_UID', /"s" twice/],
  ] as const)('rejects %s', (_what, vertices, code, message) => {
    const order = (): unknown => orderVertices(vertices);
    expect(order).toThrow(PlanError);
    expect(order).toThrow(expect.objectContaining({ code }));
    expect(order).toThrow(message);
  });
});
