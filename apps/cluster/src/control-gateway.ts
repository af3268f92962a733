import {
  MobiusError,
  type CancelTasks,
  type ControlChannel,
  type Determinant,
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

/**
 * The cluster's TaskGateway: each call is one control message to a worker (`control.ts`).
 * A worker's `error` reply to a deployment is a refusal (`DEPLOY_REFUSED`); a request that
 * times out rejects as the control channel does.
 */
export class ControlChannelGateway implements TaskGateway {
  constructor(
    private readonly control: ControlChannel,
    private readonly job: ControlGatewayJob,
  ) {}

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
      },
      30_000,
    );
    if (reply.type === 'error') throw new MobiusError('DEPLOY_REFUSED', reply.message);
  }

  cancel(jobId: string, workerId: string, which?: CancelTasks): void {
    // Keys left out, not undefined: a worker reads a missing `tasks` as "every task".
    this.control.push(workerId, { type: 'cancel', jobId, ...(which?.tasks !== undefined ? { tasks: which.tasks } : {}), ...(which?.before !== undefined ? { before: which.before } : {}) });
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

  rewire(jobId: string, workerId: string, restarted: RestartedTasks): void {
    this.control.push(workerId, { type: 'rewire', jobId, restarted });
  }
}
