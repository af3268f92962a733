import { mapState, type LogicalGraph } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { BroadcastStream } from './broadcast-stream.js';
import { ConnectedStreams } from './connected-streams.js';
import { StreamingContext } from './streaming-context.js';
import { expectPlanError as planError } from '@mobius/testkit';

const ctx = (): StreamingContext => StreamingContext.builder().build();


const into = (g: LogicalGraph, id: string) => g.edges.filter((e) => e.target === id);
const kindOf = (g: LogicalGraph, id: string) => g.nodes.find((n) => n.id === id)!.kind;

describe('process functions in the graph', () => {
  it('stream.process and keyed.process add a process node on the stream edge; a function without processElement is refused', () => {
    const c = ctx();
    const fn = { processElement() {} };
    const plain = c.fromValues(1).process(fn);
    const keyed = c.fromValues(2).keyBy((x) => x).process(fn);
    const g = c.graph();
    expect(kindOf(g, plain.id)).toBe('process');
    expect(into(g, plain.id)[0].partition.kind).toBe('forward');
    expect(into(g, keyed.id)[0].partition.kind).toBe('key');
    const e = planError(() => c.fromValues(1).process({} as never), 'PLAN_INVALID_FUNCTION');
    expect(e.message).toContain('processElement()');
  });

  it('connect: each input through its tag map, both into one operator; keyBy gives both edges one key selector that unpacks the tag', () => {
    const c = ctx();
    const a = c.fromValues({ id: 'x', n: 1 });
    const b = c.fromValues(['x', 2] as [string, number]);
    const out = a
      .connect(b)
      .keyBy((r) => r.id, (r) => r[0])
      .process({ processElement1() {}, processElement2() {} });
    const g = c.graph();
    expect(kindOf(g, out.id)).toBe('coProcess');
    const edges = into(g, out.id);
    expect(edges).toHaveLength(2);
    const [first, second] = edges.map((e) => g.nodes.find((n) => n.id === e.source)!);
    expect([first.name, second.name]).toEqual(['tag first input', 'tag second input']);
    expect((first.fn as (v: unknown) => unknown)('v')).toEqual([0, 'v']);
    expect((second.fn as (v: unknown) => unknown)('v')).toEqual([1, 'v']);
    const select = edges[0].partition.keySelector as (r: unknown) => unknown;
    expect(edges[1].partition.keySelector).toBe(select);
    expect(select([0, { id: 'k1', n: 0 }])).toBe('k1');
    expect(select([1, ['k2', 0]])).toBe('k2');
  });

  it('connect without keys keeps each input partitioning; a custom partitioner sees the untagged record', () => {
    const c = ctx();
    const seen: unknown[] = [];
    const out = c
      .fromValues(1)
      .partitionBy((r: number) => (seen.push(r), 0))
      .connect(c.fromValues('s').rebalance())
      .process({ processElement1() {}, processElement2() {} });
    const [ea, eb] = into(c.graph(), out.id);
    expect(ea.partition.kind).toBe('custom');
    expect(eb.partition.kind).toBe('rebalance');
    (ea.partition.partitioner as (r: unknown, n: number) => unknown)([0, 7], 2);
    expect(seen).toEqual([7]);
    planError(() => c.fromValues(1).connect(c.fromValues(2)).process({ processElement1() {} } as never), 'PLAN_INVALID_FUNCTION');
    planError(() => c.fromValues(1).connect(ctx().fromValues(2)), 'PLAN_INVALID_FUNCTION');
    expect(c.fromValues(1).connect(c.fromValues(2))).toBeInstanceOf(ConnectedStreams);
  });

  it('broadcast(descriptor) gives a BroadcastStream; connect wires a broadcast edge; plain broadcast() still changes the edge only', () => {
    const c = ctx();
    const rules = mapState<string, number>('rules');
    const bs = c.fromValues(['a', 1] as [string, number]).broadcast(rules);
    expect(bs).toBeInstanceOf(BroadcastStream);
    const fn = { processElement() {}, processBroadcastElement() {} };
    const plain = c.fromValues(1).connect(bs).process(fn);
    const keyed = c.fromValues(2).keyBy((x) => x).connect(bs).process(fn);
    const g = c.graph();
    expect(into(g, plain.id).map((e) => e.partition.kind)).toEqual(['forward', 'broadcast']);
    expect(into(g, keyed.id).map((e) => e.partition.kind)).toEqual(['key', 'broadcast']);
    expect(kindOf(g, keyed.id)).toBe('broadcastProcess');
    const after = c.fromValues(3).broadcast().map((x) => x);
    expect(into(c.graph(), after.id)[0].partition.kind).toBe('broadcast');
    planError(() => c.fromValues(1).broadcast({ name: '' } as never), 'PLAN_INVALID_FUNCTION');
    planError(() => c.fromValues(1).keyBy((x) => x).connect(c.fromValues(2) as never), 'PLAN_INVALID_FUNCTION');
  });

  it('intervalJoin: bounds checked, exclusive bounds moved by 1 ms, keyed edges from both sides', () => {
    const c = ctx();
    const a = c.fromValues({ k: 1 }).keyBy((r) => r.k);
    const b = c.fromValues({ k: 1 }).keyBy((r) => r.k);
    const out = a.intervalJoin(b).between(-5, 5).lowerBoundExclusive().upperBoundExclusive().process(() => {});
    const g = c.graph();
    const spec = g.nodes.find((n) => n.id === out.id)!.fn as { lowerMs: number; upperMs: number };
    expect([spec.lowerMs, spec.upperMs]).toEqual([-4, 4]);
    expect(into(g, out.id).map((e) => e.partition.kind)).toEqual(['key', 'key']);
    expect(planError(() => a.intervalJoin(b).between(5, -5), 'PLAN_INVALID_FUNCTION').message).toContain('lower bound is above');
    planError(() => a.intervalJoin(b).between(0, 0.5), 'PLAN_INVALID_FUNCTION');
    planError(() => a.intervalJoin(b).between(3, 3).lowerBoundExclusive().process(() => {}), 'PLAN_INVALID_FUNCTION');
    planError(() => a.intervalJoin(b).between(0, 1).process('x' as never), 'PLAN_INVALID_FUNCTION');
    planError(() => a.intervalJoin(c.fromValues(1) as never), 'PLAN_INVALID_FUNCTION');
  });

  it('the graph plans: the two-input operator is keyed and starts its own task', () => {
    const c = ctx();
    const out = c
      .fromValues(1)
      .connect(c.fromValues(2))
      .keyBy((x) => x, (y) => y)
      .process({ processElement1() {}, processElement2() {} });
    const plan = c.plan();
    const op = plan.operators.find((o) => o.id === out.id)!;
    expect(op.keyed).toBe(true);
    expect(plan.vertices.find((v) => v.id === op.vertexId)!.operatorIds[0]).toBe(out.id);
  });
});
