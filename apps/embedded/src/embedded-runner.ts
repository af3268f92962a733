import { randomUUID } from 'node:crypto';
import type { JobHandle, JobRunner, LogicalGraph, Logger, StateBackend, SubmitOptions } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { LocalJob } from './local-job.js';
import { createLogger } from './logger.js';
import { stateBackendFor } from './state-backend.js';

export interface EmbeddedRunnerOptions {
  readonly logger?: Logger;
  readonly stateBackend?: StateBackend;
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
