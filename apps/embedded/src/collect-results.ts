import { CoreOptions, getOperatorConfig, MobiusError, type ExecutionPlan, type LogicalGraph } from '@mobius/interface';
import { CollectBuffer, type CollectOutlet, type CollectTarget } from '@mobius/runtime';

/**
 * The collect sinks of one embedded job: a bounded buffer per collect operator, which every
 * task of that operator fills and the caller reads (`collectResults`). Records arrive in the
 * order the tasks hand them over (each task's own in its order). The buffers end when the job
 * ends, or fail with the job's error.
 */
export class CollectResults implements CollectTarget {
  private readonly buffers = new Map<string, CollectBuffer>();
  private ended: { readonly error: unknown } | undefined;

  constructor(
    private readonly plan: ExecutionPlan,
    private readonly graph: LogicalGraph,
  ) {}

  outlet(collectId: string, _taskIndex: number): CollectOutlet {
    return this.buffer(collectId);
  }

  /** The records of collect operator `collectId`, for the one reader. */
  results(collectId: string): AsyncIterable<unknown> {
    return this.buffer(collectId);
  }

  /** The job ended: readers get what is buffered, then the end or `error`. */
  end(error?: unknown): void {
    for (const buffer of this.buffers.values()) {
      if (error === undefined) buffer.end();
      else buffer.fail(error);
    }
    this.ended = { error };
  }

  private buffer(collectId: string): CollectBuffer {
    let buffer = this.buffers.get(collectId);
    if (buffer !== undefined) return buffer;
    const node = this.graph.nodes.find((n) => n.id === collectId);
    if (node === undefined || node.kind !== 'collect') {
      throw new MobiusError('COLLECT_UNKNOWN', `job "${this.plan.jobName}" has no collect sink "${collectId}"`);
    }
    buffer = new CollectBuffer(getOperatorConfig(node.config, this.plan.config, CoreOptions.COLLECT_BUFFER_MAX_BYTES));
    // A reader that comes after the end still gets the end (or the failure).
    if (this.ended !== undefined) {
      if (this.ended.error === undefined) buffer.end();
      else buffer.fail(this.ended.error);
    }
    this.buffers.set(collectId, buffer);
    return buffer;
  }
}
