import { MobiusError, type ExecutionPlan, type PlanChannel, type PlanTask } from '@mobius/interface';

/** How far a recovery rolls back: the failed tasks alone, a connected region, or the whole job. */
export type RecoveryStrategy = 'single-task' | 'region' | 'global';

/** What the failover coordinator knows when it decides how to recover. */
export interface RecoveryRequest {
  readonly plan: ExecutionPlan;
  /** Tasks that died (a lost worker's tasks, or a task that failed). */
  readonly failed: readonly string[];
  /** The job's failover.strategy config. */
  readonly configured: 'single-task' | 'global';
  /** Plan channel ids (PlanChannel.id) whose sender's replay buffer dropped frames since the last completed checkpoint. */
  readonly unreplayable: ReadonlySet<string>;
  /** Tasks whose determinant log matters (default: a task with more than one input channel and at least one output channel). */
  readonly needsDeterminants?: (taskId: string) => boolean;
}

/** The outcome of {@link planRecovery}. */
export interface RecoveryDecision {
  readonly strategy: RecoveryStrategy;
  /** Every task to roll back to the last completed checkpoint, sorted (by vertex id, then index). */
  readonly tasks: readonly string[];
  /** Why this strategy: the channels or tasks that forced widening, or "only the failed task(s) roll back: …". */
  readonly reason: string;
}

/**
 * Decides which tasks roll back after a failure, following the "Single-node failover"
 * section of DESIGN.md. Pure: it reads the plan and the request and returns a decision.
 *
 * Starting from the failed tasks, the rollback widens until nothing changes:
 * - an upstream whose channel into a rolled-back task is not replayable rolls back too,
 *   since only a restart from the checkpoint can regenerate the dropped frames;
 * - a rolled-back task that needs determinants, whose every holder (downstream neighbour)
 *   also rolls back, has lost its log: its regenerated output may differ, so everything
 *   downstream of it rolls back.
 *
 * Throws {@link MobiusError} `UNKNOWN_TASK` for a failed task id that is not in the plan.
 */
export function planRecovery(request: RecoveryRequest): RecoveryDecision {
  const { plan, unreplayable } = request;
  const byId = new Map<string, PlanTask>(plan.tasks.map((t) => [t.id, t]));
  for (const id of request.failed) {
    if (!byId.has(id)) {
      throw new MobiusError('UNKNOWN_TASK', `failed task "${id}" is not in the plan of job "${plan.jobName}"`);
    }
  }
  const sorted = (ids: Iterable<string>): string[] => [...ids].sort((a, b) => compareTasks(byId.get(a)!, byId.get(b)!));
  const failed = new Set(request.failed);

  if (request.configured === 'global') {
    return {
      strategy: 'global',
      tasks: sorted(byId.keys()),
      reason: 'failover.strategy is global, so every task rolls back',
    };
  }

  const inputs = groupChannels(plan.channels, (c) => c.targetTask);
  const outputs = groupChannels(plan.channels, (c) => c.sourceTask);
  const needsDeterminants =
    request.needsDeterminants ?? ((id: string) => (inputs.get(id)?.length ?? 0) > 1 && (outputs.get(id)?.length ?? 0) >= 1);

  const rollback = new Set(failed);
  const reasons: string[] = [];
  // Tasks whose determinant rule already fired: their whole downstream is in the rollback.
  const determinantsLost = new Set<string>();
  let changed = true;
  while (changed) {
    changed = false;
    // (a) Upstream replay.
    for (const c of plan.channels) {
      if (rollback.has(c.targetTask) && !rollback.has(c.sourceTask) && unreplayable.has(c.id)) {
        rollback.add(c.sourceTask);
        reasons.push(`the replay buffer of channel ${c.id} (${c.sourceTask} → ${c.targetTask}) overflowed`);
        changed = true;
      }
    }
    // (b) Determinants. Plan order keeps the reasons deterministic.
    for (const task of plan.tasks) {
      const id = task.id;
      if (!rollback.has(id) || determinantsLost.has(id) || !needsDeterminants(id)) continue;
      const holders = sorted(new Set((outputs.get(id) ?? []).map((c) => c.targetTask)));
      if (!holders.every((h) => rollback.has(h))) continue;
      determinantsLost.add(id);
      const added = [...downstreamOf(id, outputs)].filter((d) => !rollback.has(d));
      if (added.length === 0) continue;
      for (const d of added) rollback.add(d);
      reasons.push(`${id} and every holder of its determinants (${holders.join(', ')}) roll back together`);
      changed = true;
    }
  }

  const tasks = sorted(rollback);
  if (rollback.size === byId.size) {
    return { strategy: 'global', tasks, reason: reasons.length > 0 ? reasons.join('; ') : 'every task failed' };
  }
  if (rollback.size === failed.size) {
    const reason = failed.size === 0 ? 'no task failed, so nothing rolls back' : `only the failed task(s) roll back: ${tasks.join(', ')}`;
    return { strategy: 'single-task', tasks, reason };
  }
  return { strategy: 'region', tasks, reason: reasons.join('; ') };
}

/** Vertex id, then index, so `reduce#2` comes before `reduce#10`. */
function compareTasks(a: PlanTask, b: PlanTask): number {
  if (a.vertexId !== b.vertexId) return a.vertexId < b.vertexId ? -1 : 1;
  return a.index - b.index;
}

function groupChannels(channels: readonly PlanChannel[], key: (c: PlanChannel) => string): Map<string, PlanChannel[]> {
  const groups = new Map<string, PlanChannel[]>();
  for (const c of channels) {
    const k = key(c);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [c]);
    else group.push(c);
  }
  return groups;
}

/** Every task reachable from `id` along output channels, `id` excluded. */
function downstreamOf(id: string, outputs: ReadonlyMap<string, readonly PlanChannel[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    for (const c of outputs.get(stack.pop()!) ?? []) {
      if (c.targetTask !== id && !seen.has(c.targetTask)) {
        seen.add(c.targetTask);
        stack.push(c.targetTask);
      }
    }
  }
  return seen;
}
