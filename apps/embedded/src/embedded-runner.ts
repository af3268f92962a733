import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionPlan, JobHandle, JobRunner, LogicalGraph, Logger, StateBackend, SubmitOptions } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { MemoryStateBackend } from '@mobius/runtime';
import { LevelStateBackend } from '@mobius/state-level';
import { LocalJob } from './local-job.js';
import { createLogger } from './logger.js';

export interface EmbeddedRunnerOptions {
  readonly logger?: Logger;
  readonly stateBackend?: StateBackend;
}

/**
 * The state backend a job asks for (`state.backend`). The LevelDB backend takes full snapshots
 * here: incremental ones need their base checkpoints kept past `checkpoint.retained`, which the
 * checkpoint store does not track yet.
 */
export function stateBackendFor(plan: ExecutionPlan): StateBackend {
  if (plan.config['state.backend'] === 'level') {
    return new LevelStateBackend({
      directory: join(tmpdir(), 'mobius-state'),
      cacheEntries: plan.config['state.level.cache-entries'] as number,
      incremental: false,
    });
  }
  return new MemoryStateBackend();
}

/** Runs jobs in this process (the default of `import { StreamingContext } from 'mobius'`). */
export class EmbeddedRunner implements JobRunner {
  private logger: Logger | undefined;

  constructor(private readonly options: EmbeddedRunnerOptions = {}) {
    this.logger = options.logger;
  }

  async submit(graph: LogicalGraph, options: SubmitOptions): Promise<JobHandle> {
    const plan = createPlan(graph, options.name);
    this.logger ??= createLogger();
    const job = new LocalJob(randomUUID(), options.name, plan, graph, this.logger, this.options.stateBackend ?? stateBackendFor(plan));
    await job.start();
    return job;
  }
}
