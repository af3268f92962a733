import {
  MobiusError,
  type CancelTasks,
  type ControlChannel,
  type Determinant,
  type RescalePreparation,
  type RestartedTasks,
  type RestoreHandles,
  type TaskDeploymentRequest,
  type TaskGateway,
} from '@mobius/interface';

/** What a worker needs to build a job's tasks, beyond a TaskDeploymentRequest. */
export interface ControlGatewayJob {
  readonly name: string;
  readonly bundle: string;
  readonly args: readonly string[];
  readonly graphHash: string;
  /** The shared checkpoint store's folder the tasks write snapshots to. */
  readonly checkpointDir: string;
}

/** How long the gateway waits for workers. */
export interface ControlGatewayTimeouts {
  /** A worker that has not taken its tasks in this time fails the deployment. Default 30000. */
  readonly deployTimeoutMs?: number;
  /**
   * How long a cancel waits for the worker's reply. Default 2000. The coordinator passes its
   * heartbeat timeout: a worker silent for that long is busy or lost, and waiting longer helps
   * no one.
   */
  readonly cancelTimeoutMs?: number;
}

/** Default of `--deploy-timeout-ms`. */
export const DEFAULT_DEPLOY_TIMEOUT_MS = 30_000;

/**
 * The cluster's TaskGateway: each call is one control message to a worker (`control.ts`).
 * A worker's `error` reply to a deployment is a refusal (`DEPLOY_REFUSED`); a request that
 * times out rejects as the control channel does. A cancel is a request too: the worker answers
 * once it no longer reports the tasks as running, so the job master can end the job after that.
 */
export class ControlChannelGateway implements TaskGateway {
  private readonly deployTimeoutMs: number;
  private readonly cancelTimeoutMs: number;

  constructor(
    private readonly control: ControlChannel,
    private readonly job: ControlGatewayJob,
    timeouts: ControlGatewayTimeouts = {},
  ) {
    this.deployTimeoutMs = timeouts.deployTimeoutMs ?? DEFAULT_DEPLOY_TIMEOUT_MS;
    this.cancelTimeoutMs = timeouts.cancelTimeoutMs ?? 2000;
  }

  async deploy(request: TaskDeploymentRequest): Promise<void> {
    const restore: RestoreHandles | undefined = request.restore;
    const reply = await this.control.request(
      request.workerId,
      {
        type: 'deploy',
        jobId: request.jobId,
        name: this.job.name,
        bundle: this.job.bundle,
        args: this.job.args,
        graphHash: this.job.graphHash,
        endpoints: request.endpoints,
        attempts: request.attempts,
        tasks: request.tasks,
        checkpointDir: this.job.checkpointDir,
        restore,
        staleCheckpointsThrough: request.staleCheckpointsThrough,
        overrides: request.overrides,
        rescaled: request.rescaled,
      },
      this.deployTimeoutMs,
    );
    if (reply.type === 'error') throw new MobiusError('DEPLOY_REFUSED', reply.message);
  }

  /** Resolves once the worker took the cancel, or when it did not answer in time (a lost worker); never rejects. */
  cancel(jobId: string, workerId: string, which?: CancelTasks): Promise<void> {
    // Keys left out, not undefined: a worker reads a missing `tasks` as "every task".
    const message = { type: 'cancel', jobId, ...(which?.tasks !== undefined ? { tasks: which.tasks } : {}), ...(which?.before !== undefined ? { before: which.before } : {}) } as const;
    return this.control.request(workerId, message, this.cancelTimeoutMs).then(
      () => undefined,
      () => undefined,
    );
  }

  triggerCheckpoint(jobId: string, workerId: string, checkpointId: number, timestamp: number, savepoint: boolean): void {
    this.control.push(workerId, { type: 'trigger-checkpoint', jobId, checkpointId, timestamp, savepoint });
  }

  notifyCheckpointComplete(jobId: string, workerId: string, checkpointId: number): void {
    this.control.push(workerId, { type: 'checkpoint-complete', jobId, checkpointId });
  }

  notifyCheckpointAborted(jobId: string, workerId: string, checkpointId: number): void {
    this.control.push(workerId, { type: 'checkpoint-aborted', jobId, checkpointId });
  }

  async replayStatus(jobId: string, workerId: string): Promise<readonly string[]> {
    const reply = await this.control.request(workerId, { type: 'get-replay-status', jobId }, 10_000);
    return reply.type === 'replay-status' ? reply.unreplayable : [];
  }

  async determinantsOf(jobId: string, workerId: string, taskId: string): Promise<readonly Determinant[]> {
    const reply = await this.control.request(workerId, { type: 'get-determinants', jobId, taskId }, 10_000);
    if (reply.type !== 'determinants') throw new MobiusError('UNEXPECTED_REPLY', `worker ${workerId} answered get-determinants with '${reply.type}'`);
    return reply.entries;
  }

  /** Rejects when the worker refuses or does not answer in the deploy timeout (the rescale then fails). */
  async prepareRescale(jobId: string, workerId: string, preparation: RescalePreparation): Promise<void> {
    const reply = await this.control.request(workerId, { type: 'prepare-rescale', jobId, preparation }, this.deployTimeoutMs);
    if (reply.type === 'error') throw new MobiusError('RESCALE_FAILED', `worker ${workerId} could not prepare the rescale: ${reply.message}`);
  }

  rewire(jobId: string, workerId: string, restarted: RestartedTasks): void {
    this.control.push(workerId, { type: 'rewire', jobId, restarted });
  }
}
