import type { PortableJob } from './portable-graph.js';

/** What the parent sends the planning child: the written bundle and the job's own arguments. */
export interface PlanRequest {
  readonly path: string;
  readonly args: readonly string[];
}

/** The planning child's one answer. */
export type PlanReply = { readonly type: 'planned'; readonly job: PortableJob } | { readonly type: 'failed'; readonly code: string; readonly message: string };
