import {
  CoreOptions,
  MobiusError,
  getConfig,
  type CancelTasks,
  type CheckpointStore,
  type Determinant,
  type ExecutionPlan,
  type LogicalGraph,
  type Logger,
  type RestartedTasks,
  type RescalePreparation,
  type StateBackend,
  type TaskDeploymentRequest,
  type TaskGateway,
  type TaskGatewayListener,
  type TaskMetrics,
  type Transport,
} from '@mobius/interface';
import { JobTaskExecutor } from './task-executor.js';
import { readTaskSnapshots, storeCheckpointListener } from './task-snapshots.js';

export interface InProcessGatewayOptions {
  readonly jobId: string;
  readonly plan: ExecutionPlan;
  readonly graph: LogicalGraph;
  /** Every task of the job on it (e.g. a MemoryTransport, which the app passes in). */
  readonly transport: Transport;
  readonly stateBackend: StateBackend;
  readonly logger: Logger;
  /** Where task snapshots go; without it, barriers pass through unrecorded and nothing replays. */
  readonly store?: CheckpointStore;
}

/**
 * The TaskGateway of embedded mode: one worker (this process) whose tasks are `Task` objects
 * on one transport. Calls go straight to a JobTaskExecutor; what the tasks report goes to the
 * listener (the job master) given to `connect`.
 */
export class InProcessGateway implements TaskGateway {
  readonly executor: JobTaskExecutor;
  private listener: TaskGatewayListener | undefined;

  constructor(private readonly options: InProcessGatewayOptions) {
    const { transport, stateBackend, logger, store } = options;
    this.executor = new JobTaskExecutor({
      jobId: options.jobId,
      plan: options.plan,
      graph: options.graph,
      services: {
        transport,
        endpointOf: () => transport.endpoint,
        stateBackend,
        logger,
        checkpoints:
          store === undefined
            ? undefined
            : storeCheckpointListener(options.jobId, store, {
                acknowledgeCheckpoint: (taskId, checkpointId, handle) => this.listener?.acknowledgeCheckpoint(taskId, checkpointId, handle),
                declineCheckpoint: (taskId, checkpointId, reason) => this.listener?.declineCheckpoint(taskId, checkpointId, reason),
              }),
        // Replay buffers serve single-task recovery only; a global restore re-runs every task.
        replay: store !== undefined && getConfig(options.plan.config, CoreOptions.FAILOVER_STRATEGY) === 'single-task',
        replayRunAhead: false,
      },
      report: (update) => this.listener?.taskStateChanged({ ...update, workerId: 'local' }),
    });
  }

  /** Where task states and checkpoint acknowledgements go. */
  connect(listener: TaskGatewayListener): void {
    this.listener = listener;
  }

  async deploy(request: TaskDeploymentRequest): Promise<void> {
    const store = this.options.store;
    const restore = request.restore === undefined || store === undefined ? undefined : await readTaskSnapshots(store, request.restore.handles);
    await this.executor.retire(request.tasks.map((t) => t.taskId));
    try {
      this.executor.deploy(request.tasks, { attempts: request.attempts, restore, staleCheckpointsThrough: request.staleCheckpointsThrough, overrides: request.overrides, rescaled: request.rescaled });
    } catch (e) {
      throw new MobiusError('DEPLOY_REFUSED', e instanceof Error ? e.message : String(e), { cause: e });
    }
  }

  cancel(_jobId: string, _workerId: string, which?: CancelTasks): void {
    this.executor.cancel(which);
  }

  triggerCheckpoint(_jobId: string, _workerId: string, checkpointId: number, timestamp: number, savepoint: boolean): void {
    this.executor.triggerCheckpoint(checkpointId, timestamp, savepoint);
  }

  notifyCheckpointComplete(_jobId: string, _workerId: string, checkpointId: number): void {
    this.executor.notifyCheckpointComplete(checkpointId);
  }

  notifyCheckpointAborted(_jobId: string, _workerId: string, checkpointId: number): void {
    this.executor.notifyCheckpointAborted(checkpointId);
  }

  async replayStatus(): Promise<readonly string[]> {
    return this.executor.unreplayable();
  }

  async determinantsOf(_jobId: string, _workerId: string, taskId: string): Promise<readonly Determinant[]> {
    return this.executor.determinantsOf(taskId);
  }

  rewire(_jobId: string, _workerId: string, restarted: RestartedTasks): void {
    this.executor.rewire(restarted);
  }

  async prepareRescale(_jobId: string, _workerId: string, preparation: RescalePreparation): Promise<void> {
    this.executor.prepareRescale(preparation);
  }

  /** Live counters of the newest attempt of every task. */
  metrics(): TaskMetrics[] {
    return this.executor.metrics();
  }

  /** Resolves once no task runs. */
  idle(): Promise<void> {
    return this.executor.idle();
  }
}
