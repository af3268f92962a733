export { createPlan, edgeId, type PlanOptions } from './create-plan.js';
export { planWithOverrides, rescalePlan, rescaleDiff, vertexOfOperator } from './rescale-plan.js';
export type { ParallelismOverrides, RescaledPlan, RescaleDiff, TaskChannelChanges } from './rescale-plan.js';
export { validateGraph, KEYED_KINDS } from './validate-graph.js';
export { explain } from './explain.js';
export type { ExplainFormat } from './explain.js';
export { graphHash, canonicalGraph } from './graph-hash.js';
// Key-group hashing lives in @mobius/interface (every process and plugin needs it); re-exported
// here so that the planner's public API does not shrink.
export { murmur3, normalizeKey, hashKey, keyGroupOf, keyGroupRangeFor, taskIndexForKeyGroup } from '@mobius/interface';
