import { OutputTag, type LogicalEdge } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { describe, expect, it } from 'vitest';
import { registerOperator } from './operators/operator-registry.js';
import { StreamOperator } from './operators/stream-operator.js';
import { collection, edge, graph, node } from './test-graph.js';
import { deploy, runAll } from './test-task-job.js';

/*
 * Side outputs through the plan and the chain: an operator emits odd numbers to the tag 'odd'
 * and even ones to its main output; edges that read the tag get only those, chained or across a
 * network edge, and a tag nobody reads drops its records.
 */
const ODD = new OutputTag<number>('odd');
const UNREAD = new OutputTag<number>('unread');

class SplitOperator extends StreamOperator {
  collect(record: unknown): void {
    const n = record as number;
    if (n % 2 === 1) this.output(ODD, n);
    else this.out.collect(n);
    this.output(UNREAD, n);
  }
}
registerOperator('test.split', (ctx) => new SplitOperator(ctx.identity, undefined));

function sideEdge(source: string, target: string, tag: string, kind: 'forward' | 'rebalance'): LogicalEdge {
  return { ...edge(source, target, kind), sideOutput: tag };
}

describe('side outputs', () => {
  it('an edge reading a tag gets that side output only, chained or across tasks; the main output is unchanged', async () => {
    const data = Array.from({ length: 1_000 }, (_, i) => i);
    const main: number[] = [];
    const chainedOdd: number[] = [];
    const remoteOdd: number[] = [];
    const g = graph(
      [
        collection('src', data, { parallelism: 1 }),
        node('split', 'test.split'),
        node('main', 'sink', { fn: (n: number) => void main.push(n) }),
        node('odd-here', 'sink', { fn: (n: number) => void chainedOdd.push(n) }),
        node('odd-there', 'sink', { fn: (n: number) => void remoteOdd.push(n), parallelism: 2 }),
      ],
      [edge('src', 'split'), edge('split', 'main'), sideEdge('split', 'odd-here', 'odd', 'forward'), sideEdge('split', 'odd-there', 'odd', 'rebalance')],
    );
    const job = deploy(g);
    const plan = createPlan(g, 'test-job');
    expect(plan.edges.find((e) => e.targetOperator === 'odd-here')).toMatchObject({ chained: true, sideOutput: 'odd', id: 'split[odd]->odd-here' });
    expect(plan.edges.find((e) => e.targetOperator === 'odd-there')).toMatchObject({ chained: false, sideOutput: 'odd' });
    await runAll(job);
    expect(main).toEqual(data.filter((n) => n % 2 === 0));
    expect(chainedOdd).toEqual(data.filter((n) => n % 2 === 1));
    expect(remoteOdd.sort((a, b) => a - b)).toEqual(data.filter((n) => n % 2 === 1));
  });

  it('the main output and a side output may feed the same operator', async () => {
    const all: number[] = [];
    const g = graph(
      [collection('src', [1, 2, 3, 4], { parallelism: 1 }), node('split', 'test.split'), node('both', 'union', { parallelism: 1 }), node('sink', 'sink', { fn: (n: number) => void all.push(n) })],
      [edge('src', 'split'), edge('split', 'both', 'rebalance'), sideEdge('split', 'both', 'odd', 'rebalance'), edge('both', 'sink')],
    );
    await runAll(deploy(g));
    expect(all.sort()).toEqual([1, 2, 3, 4]);
  });
});
