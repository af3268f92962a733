/**
 * Where the records of a collect sink (`executeAndCollect`, `collectAsync`) go. A task finds the
 * target of its job in this process's registry: the embedded runner registers a buffer the
 * caller reads; a process that runs tasks for a caller elsewhere (a cluster worker, a task
 * thread) registers one that forwards batches. Records reach the caller through this channel,
 * never through a function of the caller's module.
 */
export interface CollectOutlet {
  /**
   * Takes one record. Returns false when the caller's buffer is full: the sink then waits for
   * `whenWritable()` before its task takes more input (the record itself is kept).
   */
  push(record: unknown): boolean;
  /** Resolves once the buffer has room again (or nobody reads any more). */
  whenWritable(): Promise<void>;
  /** Resolves once every record pushed so far reached the caller's buffer (a forwarder's; the task awaits it at the end of input). */
  flush?(): Promise<void>;
}

/** The collect sinks of one job, as one process sees them. */
export interface CollectTarget {
  /** The outlet of task `taskIndex` of the collect operator `collectId`. */
  outlet(collectId: string, taskIndex: number): CollectOutlet;
}

// On globalThis under a registered symbol: two copies of this package in one process (a job
// bundle that carries its own) must see the same registry.
const TARGETS = Symbol.for('mobius.runtime.collectTargets');
type Registry = { [TARGETS]?: Map<string, CollectTarget> };

function targets(): Map<string, CollectTarget> {
  const registry = globalThis as unknown as Registry;
  return (registry[TARGETS] ??= new Map());
}

/** Registers the collect target of job `jobId` in this process; returns the call that removes it. */
export function registerCollectTarget(jobId: string, target: CollectTarget): () => void {
  targets().set(jobId, target);
  return () => {
    if (targets().get(jobId) === target) targets().delete(jobId);
  };
}

/** The collect target of job `jobId` in this process, if one was registered. */
export function collectTargetOf(jobId: string): CollectTarget | undefined {
  return targets().get(jobId);
}
