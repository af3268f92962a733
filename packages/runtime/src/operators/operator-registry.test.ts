import { MobiusError, silentLogger, type OperatorKind } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from '../memory-state-backend.js';
import { ChannelOutput } from '../output/channel-output.js';
import { TaskOutputs } from '../output/task-outputs.js';
import { SingleChannelWriter } from '../output/writers.js';
import { Task } from '../task.js';
import { channelPair, TestTransport } from '../test-channels.js';
import { collection, edge, graph, node } from '../test-graph.js';
import { MapOperator } from './map-operator.js';
import { operatorFactory, registerOperator, registeredOperatorKinds } from './operator-registry.js';
import { StreamOperator } from './stream-operator.js';

/** A kind the test adds: each record twice, tagged with the operator's parameter. */
class DuplicateOperator extends StreamOperator {
  constructor(
    identity: ConstructorParameters<typeof StreamOperator>[0],
    private readonly tag: string,
  ) {
    super(identity, undefined);
  }
  collect(record: unknown): void {
    this.out.collect(`${this.tag}${String(record)}`);
    this.out.collect(`${this.tag}${String(record)}`);
  }
}

registerOperator('test.duplicate', (ctx) => new DuplicateOperator(ctx.identity, String(ctx.fn)));

describe('operator registry', () => {
  it('the built-in kinds are registered', () => {
    expect(registeredOperatorKinds()).toEqual(expect.arrayContaining(['source', 'map', 'flatMap', 'filter', 'reduce', 'union', 'sink']));
  });

  it('a registered kind runs through a task like a built-in one, chained and across the network', async () => {
    const out: unknown[] = [];
    const g = graph(
      [
        collection('src', [1, 2, 3], { parallelism: 1 }),
        node('dup', 'test.duplicate' as OperatorKind, { fn: '#' }),
        node('sink', 'sink', { parallelism: 2, fn: (r: unknown) => void out.push(r) }),
      ],
      [edge('src', 'dup'), edge('dup', 'sink', 'rebalance')],
      { 'runtime.batch.size': 2 },
    );
    const plan = createPlan(g, 'registry');
    const transport = new TestTransport();
    const services = { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger: silentLogger };
    const tasks = plan.tasks.map((t) => new Task({ jobId: 'job-1', plan, graph: g, taskId: t.id, attempt: 0 }, services));
    await Promise.all(tasks.map((t) => t.run()));
    expect(out.map(String).sort()).toEqual(['#1', '#1', '#2', '#2', '#3', '#3']);
  });

  it('an unknown kind fails the task build with OPERATOR_KIND_UNKNOWN naming the kind', () => {
    const g = graph([collection('src', [1], { parallelism: 1 }), node('x', 'test.nope' as OperatorKind)], [edge('src', 'x')]);
    const plan = createPlan(g, 'registry');
    const transport = new TestTransport();
    const services = { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger: silentLogger };
    let error: unknown;
    try {
      new Task({ jobId: 'job-1', plan, graph: g, taskId: plan.tasks[0].id, attempt: 0 }, services);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MobiusError);
    expect((error as MobiusError).code).toBe('OPERATOR_KIND_UNKNOWN');
    expect((error as Error).message).toContain('test.nope');
    expect(() => operatorFactory('test.nope')).toThrow(/test\.nope/);
  });
});

describe('StreamOperator: watermarks', () => {
  it('processWatermark forwards a rising watermark to the output and ignores one that does not rise', () => {
    const op = new MapOperator({ operatorId: 'm', operatorName: 'm', taskIndex: 0 }, (x: number) => x);
    const seen: number[] = [];
    op.setOutput({ collect() {}, emitWatermark: (w) => void seen.push(w) });
    op.processWatermark(5);
    op.processWatermark(3);
    op.processWatermark(5);
    op.processWatermark(9);
    expect(seen).toEqual([5, 9]);
    expect(op.currentWatermark).toBe(9);
  });

  it('a network writer sends the watermark behind the records emitted before it', () => {
    const { channel, sender } = channelPair('c', 16);
    const outputs = new TaskOutputs();
    const writer = new SingleChannelWriter(outputs.add(new ChannelOutput('c', sender, 100, outputs, null)));
    const op = new MapOperator({ operatorId: 'm', operatorName: 'm', taskIndex: 0 }, (x: number) => x * 2);
    op.setOutput(writer);
    op.collect(1);
    op.collect(2);
    op.processWatermark(7);
    op.collect(3);
    outputs.flushAll();
    expect(channel.sent.map((f) => (f.kind === 'data' ? f.records : `wm ${f.watermark} @${f.seq}`))).toEqual([[2, 4], 'wm 7 @2', [6]]);
  });
});
