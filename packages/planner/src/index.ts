export { createPlan, edgeId } from './create-plan.js';
export { validateGraph, KEYED_KINDS } from './validate-graph.js';
export { explain } from './explain.js';
export type { ExplainFormat } from './explain.js';
export { graphHash, canonicalGraph } from './graph-hash.js';
// Key-group hashing lives in @mobius/interface (every process and plugin needs it); re-exported
// here so that the planner's public API does not shrink.
export { murmur3, normalizeKey, hashKey, keyGroupOf, keyGroupRangeFor, taskIndexForKeyGroup } from '@mobius/interface';
