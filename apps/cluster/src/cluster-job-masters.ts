import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreOptions, getConfig, type CheckpointStore, type ControlChannel, type ExecutionPlan, type JobRecord, type Logger, type RestoreHandles } from '@mobius/interface';
import { planWithOverrides } from '@mobius/planner';
import { FsCheckpointStore } from '@mobius/failover';
import { JobMaster, type FsJobStore } from '@mobius/jobmaster';
import type { JobPlanner } from '@mobius/job-loader';
import type { SlotScheduler } from '@mobius/scheduler';
import { ClusterJob } from './cluster-job.js';
import { ControlChannelGateway } from './control-gateway.js';
import { stateBackends } from './state-backend.js';

/** What the coordinator lends its job masters. */
export interface ClusterJobMastersContext {
  readonly control: ControlChannel;
  readonly scheduler: SlotScheduler;
  readonly logger: Logger;
  readonly jobStore: FsJobStore;
  readonly planner: JobPlanner;
  readonly dataDir: string;
  readonly heartbeatTimeoutMs: number;
  readonly deployTimeoutMs: number | undefined;
  /** A job ended (finished, failed or cancelled). */
  onEnded(jobId: string): void;
}

/**
 * The coordinator's side of each job's JobMaster: making one (control-channel gateway, the job's
 * checkpoint store, its durable record in the data dir, recoveries that wait for workers with
 * free slots), and taking back the jobs of an existing data dir after a restart.
 */
export class ClusterJobMasters {
  constructor(private readonly ctx: ClusterJobMastersContext) {}

  create(job: ClusterJob, restore: RestoreHandles | undefined): JobMaster {
    const { ctx } = this;
    const master = new JobMaster({
      jobId: job.id,
      name: job.name,
      plan: job.plan,
      graph: job.graph,
      gateway: new ControlChannelGateway(
        ctx.control,
        { name: job.name, bundle: job.bundle, args: job.args, graphHash: job.plan.graphHash, checkpointDir: job.checkpointDir },
        { deployTimeoutMs: ctx.deployTimeoutMs, cancelTimeoutMs: ctx.heartbeatTimeoutMs },
      ),
      scheduler: ctx.scheduler,
      logger: ctx.logger,
      checkpoints: { store: job.store!, dir: job.checkpointDir, retained: stateBackends.retainedCheckpoints(job.plan.config), compactor: stateBackends.compactor(job.plan.config) },
      jobStore: ctx.jobStore,
      args: job.args,
      restore,
      slotWaitMs: 3 * ctx.heartbeatTimeoutMs,
    });
    job.attach(master);
    master.onEnded((end) => {
      ctx.onEnded(job.id);
      const log = end.state === 'FAILED' ? ctx.logger.error.bind(ctx.logger) : ctx.logger.info.bind(ctx.logger);
      log({ jobId: job.id, job: job.name, state: end.state, error: end.error }, `job ${end.state.toLowerCase()}`);
    });
    return master;
  }

  /** The job's checkpoint store: `checkpoint.dir`, else the data dir's. */
  storeFor(job: ClusterJob, plan: ExecutionPlan, dir?: string): CheckpointStore {
    job.checkpointDir = dir ?? (getConfig(plan.config, CoreOptions.CHECKPOINT_DIR) || join(this.ctx.dataDir, 'checkpoints'));
    job.store = new FsCheckpointStore({ directory: job.checkpointDir, logger: this.ctx.logger });
    return job.store;
  }

  /**
   * On start with an existing data dir: jobs that were running are taken back. Their tasks
   * keep running on the workers, which register again and say which tasks they run; once all
   * are accounted for the job resumes (checkpoints continue past the lease). Tasks no worker
   * reports within the grace period are recovered like failed tasks.
   */
  async takeBack(): Promise<ClusterJob[]> {
    const { ctx } = this;
    ctx.planner.warm();
    const taken: ClusterJob[] = [];
    for (const id of ctx.jobStore.list()) {
      try {
        const record: JobRecord = ctx.jobStore.load(id)!;
        if (record.state === 'FINISHED' || record.state === 'CANCELED' || record.state === 'FAILED') continue;
        const root = join(ctx.dataDir, 'jobs');
        const bundle = readFileSync(join(root, id, 'job.mjs'), 'utf8');
        const captured = await ctx.planner.plan(join(root, id, 'job.mjs'), record.args);
        const plan = planWithOverrides(captured.graph, record.name, record.overrides ?? {});
        const job = new ClusterJob(id, record.name, plan, bundle, captured.graph);
        job.args = record.args;
        this.storeFor(job, plan, record.checkpointDir);
        this.create(job, record.restore ?? undefined).takeBack(record);
        job.resuming = { deadline: Date.now() + 3 * ctx.heartbeatTimeoutMs, reported: new Set() };
        taken.push(job);
        ctx.logger.warn({ jobId: id, job: record.name, tasks: record.tasks.length, nextCheckpointId: record.reservedCheckpointId + 1 }, 'taking back a running job: waiting for its workers to register again');
      } catch (e) {
        ctx.logger.error({ jobId: id, err: e }, 'a job of the data dir could not be taken back');
      }
    }
    return taken;
  }

  /** A job being taken back resumes once every task is reported (or, at the deadline, recovers the rest). */
  maybeResume(job: ClusterJob, deadline: boolean): void {
    const resuming = job.resuming;
    if (resuming === undefined || job.terminal) return;
    const missing = [...job.tasks.keys()].filter((id) => !resuming.reported.has(id));
    if (missing.length > 0 && !deadline) return;
    job.resuming = undefined;
    this.ctx.logger.warn({ jobId: job.id, missing }, missing.length === 0 ? 'job taken back: every task is running' : 'job taken back; tasks no worker reported are recovered');
    job.jobMaster!.resumeTaken(resuming.reported, missing, `tasks ${missing.join(', ')} were not reported by any worker after the coordinator restarted`);
  }
}
