import { DEFAULT_SLOT_SHARING_GROUP, PlanError, type LogicalEdge, type LogicalNode } from '@mobius/interface';
import { describeNode } from './validate-graph.js';

/**
 * Each operator's slot-sharing group, as Flink decides it: the group set with
 * `slotSharingGroup(name)`, else its inputs' group when they all agree, else `default`
 * (sources too). `order` is topological, so inputs are decided first.
 */
export function slotSharingGroups(order: readonly LogicalNode[], inputsOf: ReadonlyMap<string, readonly LogicalEdge[]>): Map<string, string> {
  const groups = new Map<string, string>();
  for (const node of order) {
    const set = node.slotSharingGroup;
    if (set !== undefined) {
      if (typeof set !== 'string' || set.trim().length === 0) {
        throw new PlanError(
          'PLAN_INVALID_SLOT_SHARING_GROUP',
          `${describeNode(node)}: slotSharingGroup() takes a non-empty name, got ${JSON.stringify(set)}`,
          node.id,
        );
      }
      groups.set(node.id, set);
      continue;
    }
    const inputs = new Set((inputsOf.get(node.id) ?? []).map((e) => groups.get(e.source)));
    const [only] = inputs;
    groups.set(node.id, inputs.size === 1 && only !== undefined ? only : DEFAULT_SLOT_SHARING_GROUP);
  }
  return groups;
}
