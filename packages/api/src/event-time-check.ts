import { PlanError } from '@mobius/interface';
import type { StreamUpstream } from './data-stream.js';
import type { NodeBuilder } from './graph-builder.js';

/**
 * The source upstream of `node` whose records reach it without a timestamp, if any: a path with
 * no `assignTimestampsAndWatermarks` that starts at a built-in source (fromValues,
 * fromCollection, readTextFile carry no timestamps; a `source(fn)` may emit with
 * `ctx.collectWithTimestamp`, so it is trusted).
 */
function sourceWithoutTimestamps(input: StreamUpstream, node: NodeBuilder, seen: Set<NodeBuilder>): NodeBuilder | undefined {
  if (seen.has(node)) return undefined;
  seen.add(node);
  if (node.kind === 'timestamps') return undefined;
  if (node.kind === 'source') return node.source?.type === 'function' ? undefined : node;
  for (const from of input.graph.inputsOf(node)) {
    const found = sourceWithoutTimestamps(input, from, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Refuses, at the API call, an event-time operation on a stream whose records can have no timestamp. */
export function checkEventTime(input: StreamUpstream, what: string): void {
  const source = sourceWithoutTimestamps(input, input.node, new Set());
  if (source === undefined) return;
  throw new PlanError(
    'PLAN_NO_TIMESTAMPS',
    `${what} after operator "${input.node.name}" (${input.node.id}) works on event time, but records from source "${source.name}" (${source.id}) reach it without timestamps: call assignTimestampsAndWatermarks(WatermarkStrategy...) before keyBy()/window()`,
    input.node.id,
  );
}
