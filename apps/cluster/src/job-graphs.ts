import { join } from 'node:path';
import type { ControlMessage, LogicalGraph } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { captureBundle, writeBundle } from '@mobius/job-loader';

/** A job module is imported once per process (imports are cached): keep each job's graph. */
const MAX_CACHED_GRAPHS = 64;

/**
 * A worker's graphs of the jobs deployed to it, rebuilt by importing each job's bundle once:
 * deployments of one job that arrive together (one request per task in a recovery) share that
 * import, and a graph whose hash differs from the coordinator's plan is refused.
 */
export class JobGraphs {
  private readonly graphs = new Map<string, LogicalGraph>();
  /** Where each job's bundle was written (what task threads import). */
  private readonly paths = new Map<string, string>();
  /** Bundles being imported, by job. */
  private readonly loading = new Map<string, Promise<LogicalGraph>>();

  /** `dir`: where bundles are written, one folder per job. */
  constructor(private readonly dir: string) {}

  /** The job's graph: cached, or imported from the deployment's bundle. */
  of(message: Extract<ControlMessage, { type: 'deploy' }>): Promise<LogicalGraph> {
    const graph = this.graphs.get(message.jobId);
    if (graph !== undefined) return Promise.resolve(graph);
    let loading = this.loading.get(message.jobId);
    if (loading === undefined) {
      loading = this.load(message).finally(() => this.loading.delete(message.jobId));
      this.loading.set(message.jobId, loading);
    }
    return loading;
  }

  /** The file of the job's bundle, once `of()` imported it. */
  bundlePath(jobId: string): string | undefined {
    return this.paths.get(jobId);
  }

  private async load(message: Extract<ControlMessage, { type: 'deploy' }>): Promise<LogicalGraph> {
    const path = writeBundle(join(this.dir, message.jobId), message.bundle);
    const captured = await captureBundle(path, message.args ?? []);
    const plan = createPlan(captured.graph, message.name);
    if (plan.graphHash !== message.graphHash) {
      const error = new Error(
        `graph hash differs: the coordinator planned ${message.graphHash}, this worker rebuilt ${plan.graphHash}; the job module must build the same graph every time it is imported`,
      );
      (error as Error & { code: string }).code = 'GRAPH_HASH_MISMATCH';
      throw error;
    }
    this.graphs.set(message.jobId, captured.graph);
    this.paths.set(message.jobId, path);
    if (this.graphs.size > MAX_CACHED_GRAPHS) this.graphs.delete(this.graphs.keys().next().value!);
    if (this.paths.size > MAX_CACHED_GRAPHS) this.paths.delete(this.paths.keys().next().value!);
    return captured.graph;
  }
}
