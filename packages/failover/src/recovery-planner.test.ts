import { MobiusError, type ExecutionPlan, type PartitionKind, type PlanChannel, type PlanEdge, type PlanTask, type PlanVertex } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { planRecovery, type RecoveryRequest } from './recovery-planner.js';

interface Stage {
  readonly id: string;
  readonly parallelism: number;
  /** Partitioning of the edge from the previous stage. */
  readonly partition?: PartitionKind;
}

/** A linear plan, one vertex per stage, channels as the planner builds them. */
function linearPlan(stages: readonly Stage[]): ExecutionPlan {
  const vertices: PlanVertex[] = stages.map((s) => ({ id: s.id, name: s.id, operatorIds: [s.id], parallelism: s.parallelism }));
  const tasks: PlanTask[] = stages.flatMap((s) =>
    Array.from({ length: s.parallelism }, (_, index) => ({ id: `${s.id}#${index}`, vertexId: s.id, index, keyGroups: { start: 0, end: 127 } })),
  );
  const edges: PlanEdge[] = [];
  const channels: PlanChannel[] = [];
  for (let i = 1; i < stages.length; i++) {
    const from = stages[i - 1];
    const to = stages[i];
    const partition = to.partition ?? 'rebalance';
    const edgeId = `${from.id}->${to.id}`;
    edges.push({ id: edgeId, sourceOperator: from.id, targetOperator: to.id, sourceVertex: from.id, targetVertex: to.id, partition, chained: false, inputIndex: 0 });
    for (let s = 0; s < from.parallelism; s++) {
      for (let t = 0; t < to.parallelism; t++) {
        if (partition === 'forward' && s !== t) continue;
        channels.push({ id: `${edgeId}:${s}->${t}`, edgeId, sourceTask: `${from.id}#${s}`, targetTask: `${to.id}#${t}` });
      }
    }
  }
  return {
    jobName: 'word_count',
    graphHash: 'test',
    maxParallelism: 128,
    config: {},
    operators: stages.map((s, i) => ({
      id: s.id,
      name: s.id,
      kind: i === 0 ? 'source' : i === stages.length - 1 ? 'sink' : s.id === 'reduce' ? 'reduce' : 'flatMap',
      parallelism: s.parallelism,
      vertexId: s.id,
      config: {},
      keyed: s.partition === 'key',
    })),
    vertices,
    edges,
    tasks,
    channels,
  };
}

/** source p=2 → flatMap p=2 → reduce p=2 (key) → sink p=1. */
function wordCount(sourceToFlatMap: 'forward' | 'rebalance'): ExecutionPlan {
  return linearPlan([
    { id: 'source', parallelism: 2 },
    { id: 'flatMap', parallelism: 2, partition: sourceToFlatMap },
    { id: 'reduce', parallelism: 2, partition: 'key' },
    { id: 'sink', parallelism: 1, partition: 'rebalance' },
  ]);
}

const ALL = ['flatMap#0', 'flatMap#1', 'reduce#0', 'reduce#1', 'sink#0', 'source#0', 'source#1'];

function request(plan: ExecutionPlan, failed: string[], extra: Partial<RecoveryRequest> = {}): RecoveryRequest {
  return { plan, failed, configured: 'single-task', unreplayable: new Set(), ...extra };
}

describe('planRecovery', () => {
  it('rolls back just a failed reduce task', () => {
    const decision = planRecovery(request(wordCount('forward'), ['reduce#1']));
    expect(decision).toEqual({ strategy: 'single-task', tasks: ['reduce#1'], reason: 'only the failed task(s) roll back: reduce#1' });
  });

  it('recovers each task of a lost worker on its own', () => {
    const decision = planRecovery(request(wordCount('forward'), ['source#0', 'reduce#1']));
    expect(decision.strategy).toBe('single-task');
    expect(decision.tasks).toEqual(['reduce#1', 'source#0']);
    expect(decision.reason).toBe('only the failed task(s) roll back: reduce#1, source#0');
  });

  it('ignores an unreplayable channel that does not feed a rolled-back task', () => {
    const decision = planRecovery(request(wordCount('forward'), ['reduce#1'], { unreplayable: new Set(['flatMap->reduce:0->0']) }));
    expect(decision.strategy).toBe('single-task');
    expect(decision.tasks).toEqual(['reduce#1']);
  });

  it('widens to the upstream of an unreplayable channel into the failed task', () => {
    const decision = planRecovery(request(wordCount('forward'), ['reduce#1'], { unreplayable: new Set(['flatMap->reduce:0->1']) }));
    expect(decision.strategy).toBe('region');
    expect(decision.tasks).toEqual(['flatMap#0', 'reduce#1']);
    expect(decision.reason).toBe('the replay buffer of channel flatMap->reduce:0->1 (flatMap#0 → reduce#1) overflowed');
  });

  it('follows unreplayable channels transitively and joins the reasons', () => {
    const decision = planRecovery(
      request(wordCount('forward'), ['reduce#1'], { unreplayable: new Set(['flatMap->reduce:0->1', 'source->flatMap:0->0']) }),
    );
    expect(decision.strategy).toBe('region');
    expect(decision.tasks).toEqual(['flatMap#0', 'reduce#1', 'source#0']);
    expect(decision.reason).toBe(
      'the replay buffer of channel flatMap->reduce:0->1 (flatMap#0 → reduce#1) overflowed; ' +
        'the replay buffer of channel source->flatMap:0->0 (source#0 → flatMap#0) overflowed',
    );
  });

  it('keeps a multi-input task single when a holder of its determinants survives', () => {
    // flatMap#0 reads both sources (rebalance); its holders are reduce#0 and reduce#1.
    const decision = planRecovery(request(wordCount('rebalance'), ['flatMap#0', 'reduce#0']));
    expect(decision.strategy).toBe('single-task');
    expect(decision.tasks).toEqual(['flatMap#0', 'reduce#0']);
  });

  it('adds the downstream closure of a multi-input task that failed with every holder of its determinants', () => {
    const decision = planRecovery(request(wordCount('rebalance'), ['flatMap#0', 'reduce#0', 'reduce#1']));
    expect(decision.strategy).toBe('region');
    expect(decision.tasks).toEqual(['flatMap#0', 'reduce#0', 'reduce#1', 'sink#0']);
    expect(decision.reason).toBe('flatMap#0 and every holder of its determinants (reduce#0, reduce#1) roll back together');
  });

  it('does not widen when the downstream closure is already rolled back', () => {
    // reduce#0 has two inputs and one holder, sink#0; both died, nothing else is downstream.
    const decision = planRecovery(request(wordCount('forward'), ['reduce#0', 'sink#0']));
    expect(decision.strategy).toBe('single-task');
    expect(decision.tasks).toEqual(['reduce#0', 'sink#0']);
  });

  it('uses a custom needsDeterminants', () => {
    const plan = wordCount('rebalance');
    const failed = ['flatMap#0', 'reduce#0', 'reduce#1'];
    expect(planRecovery(request(plan, failed, { needsDeterminants: () => false })).strategy).toBe('single-task');
    // With forward, flatMap#0 has one input and needs no determinants by default.
    const forward = wordCount('forward');
    expect(planRecovery(request(forward, failed)).strategy).toBe('single-task');
    const decision = planRecovery(request(forward, failed, { needsDeterminants: (id) => id === 'flatMap#0' }));
    expect(decision.strategy).toBe('region');
    expect(decision.tasks).toEqual(['flatMap#0', 'reduce#0', 'reduce#1', 'sink#0']);
  });

  it('is global when the rollback covers every task', () => {
    const everything = planRecovery(request(wordCount('forward'), [...ALL].reverse()));
    expect(everything).toEqual({ strategy: 'global', tasks: ALL, reason: 'every task failed' });

    // Every channel unreplayable: the failed sink drags in everything upstream.
    const plan = wordCount('rebalance');
    const widened = planRecovery(request(plan, ['sink#0'], { unreplayable: new Set(plan.channels.map((c) => c.id)) }));
    expect(widened.strategy).toBe('global');
    expect(widened.tasks).toEqual(ALL);
    expect(widened.reason).toContain('the replay buffer of channel reduce->sink:0->0 (reduce#0 → sink#0) overflowed; ');
  });

  it('rolls back every task when failover.strategy is global', () => {
    const decision = planRecovery({ ...request(wordCount('forward'), ['reduce#1']), configured: 'global' });
    expect(decision.strategy).toBe('global');
    expect(decision.tasks).toEqual(ALL);
    expect(decision.reason).toContain('failover.strategy is global');
  });

  it('sorts task ids by vertex, then numerically by index', () => {
    const plan = linearPlan([
      { id: 'source', parallelism: 1 },
      { id: 'map', parallelism: 11 },
    ]);
    const decision = planRecovery(request(plan, ['map#10', 'map#2']));
    expect(decision.tasks).toEqual(['map#2', 'map#10']);
  });

  it('refuses a failed task that is not in the plan', () => {
    const run = (): unknown => planRecovery(request(wordCount('forward'), ['reduce#0', 'reduce#7']));
    expect(run).toThrow(MobiusError);
    expect(run).toThrow(/reduce#7/);
    try {
      run();
    } catch (e) {
      expect((e as MobiusError).code).toBe('UNKNOWN_TASK');
    }
  });
});
