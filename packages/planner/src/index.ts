export { createPlan, edgeId } from './create-plan.js';
export { validateGraph, KEYED_KINDS } from './validate-graph.js';
export { explain } from './explain.js';
export type { ExplainFormat } from './explain.js';
export { graphHash, canonicalGraph } from './graph-hash.js';
export { murmur3 } from './murmur3.js';
export { normalizeKey, hashKey, keyGroupOf, keyGroupRangeFor, taskIndexForKeyGroup } from './key-groups.js';
