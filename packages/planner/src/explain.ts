import { DEFAULT_SLOT_SHARING_GROUP, type ExecutionPlan } from '@mobius/interface';

export type ExplainFormat = 'text' | 'mermaid';

function ranges(plan: ExecutionPlan, vertexId: string): string {
  return plan.tasks
    .filter((t) => t.vertexId === vertexId)
    .map((t) => `${t.keyGroups.start}-${t.keyGroups.end}`)
    .join(', ');
}

function explainText(plan: ExecutionPlan): string {
  const lines: string[] = [];
  lines.push(
    `Job "${plan.jobName}" (graph ${plan.graphHash}): ${plan.vertices.length} chained vertices, ${plan.tasks.length} tasks, ` +
      `${plan.channels.length} channels, max parallelism ${plan.maxParallelism}`,
  );
  const ops = new Map(plan.operators.map((o) => [o.id, o]));
  for (const v of plan.vertices) {
    const keyed = v.operatorIds.some((id) => ops.get(id)!.keyed);
    lines.push('');
    const group = v.slotSharingGroup !== undefined && v.slotSharingGroup !== DEFAULT_SLOT_SHARING_GROUP ? `, slot sharing group "${v.slotSharingGroup}"` : '';
    lines.push(`[${v.id}] ${v.name}  parallelism ${v.parallelism}${keyed ? `, key groups ${ranges(plan, v.id)}` : ''}${group}`);
    for (const id of v.operatorIds) {
      const op = ops.get(id)!;
      const cfg = Object.entries(op.config)
        .map(([k, val]) => `${k}=${String(val)}`)
        .join(' ');
      lines.push(`    ${op.id}: ${op.kind} "${op.name}"${cfg ? `  {${cfg}}` : ''}`);
    }
    for (const e of plan.edges) {
      if (e.sourceVertex !== v.id || e.chained) continue;
      const n = plan.channels.filter((c) => c.edgeId === e.id).length;
      lines.push(`    --${e.partition}--> [${e.targetVertex}] (${n} channel${n === 1 ? '' : 's'})`);
    }
  }
  return lines.join('\n');
}

const safeId = (id: string): string => id.replace(/[^A-Za-z0-9_]/g, '_');
const label = (s: string): string => s.replace(/"/g, '#quot;');

function explainMermaid(plan: ExecutionPlan): string {
  const lines = ['flowchart LR'];
  const ops = new Map(plan.operators.map((o) => [o.id, o]));
  for (const v of plan.vertices) {
    lines.push(`  subgraph ${safeId(`v_${v.id}`)}["${label(`${v.name} ×${v.parallelism}`)}"]`);
    for (const id of v.operatorIds) lines.push(`    ${safeId(id)}["${label(`${ops.get(id)!.name} (${ops.get(id)!.kind})`)}"]`);
    lines.push('  end');
  }
  for (const e of plan.edges) {
    const arrow = e.chained ? '-->' : `-- "${e.partition}" ==>`;
    lines.push(`  ${safeId(e.sourceOperator)} ${arrow} ${safeId(e.targetOperator)}`);
  }
  return lines.join('\n');
}

/** The execution plan as readable text, or as a Mermaid flowchart. */
export function explain(plan: ExecutionPlan, format: ExplainFormat = 'text'): string {
  return format === 'mermaid' ? explainMermaid(plan) : explainText(plan);
}
