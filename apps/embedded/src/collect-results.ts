import { CoreOptions, getOperatorConfig, MobiusError, type ControlMessage, type ExecutionPlan, type LogicalGraph } from '@mobius/interface';
import { CollectBuffer, type CollectOutlet, type CollectTarget } from '@mobius/runtime';

/** How long a batch that filled the buffer waits for room before the answer is `collect-full` (the thread asks again). */
const ROOM_WAIT_MS = 1000;

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

  /**
   * A batch from a task thread's collect forwarder. The reply is `ok`, or `collect-full` when the
   * buffer stayed full for a while after the batch (the thread's sink then waits and asks again),
   * so a thread never has more than its forwarder's two batches on the way.
   */
  async accept(message: Extract<ControlMessage, { type: 'collect' }>): Promise<ControlMessage> {
    const buffer = this.buffer(message.collectId);
    let writable = true;
    for (const record of message.records) writable = buffer.push(record);
    if (writable) return { type: 'ok' };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const room = await Promise.race([
      buffer.whenWritable().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ROOM_WAIT_MS, false))),
    ]);
    clearTimeout(timer);
    return room ? { type: 'ok' } : { type: 'collect-full' };
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
