import { CoreOptions, getConfig, longestDeterminants, type CheckpointMetadata, type Determinant, type RestoreHandles } from '@mobius/interface';
import { planRecovery, type RecoveryDecision, type RecoveryEventHandle } from '@mobius/failover';
import type { JobMaster } from './job-master.js';

/** The recovery in progress: its event completes once each restarted task runs. */
interface PendingRecovery {
  readonly handle: RecoveryEventHandle;
  readonly waiting: Map<string, number>;
}

/**
 * Recoveries of one job, one after another (a failure during one is handled after it):
 * single-task failover rolls back only the failed tasks, widened to a region when a replay
 * buffer cannot cover the gap or a task died with every holder of its determinants, and to a
 * global restore when `failover.strategy` is global, when a task fails again while it is being
 * recovered, when a failure comes before a checkpoint completed after an earlier recovery (the
 * settling window), or when a single-task deployment fails.
 */
export class Recoveries {
  private chain: Promise<void> = Promise.resolve();
  private pending: PendingRecovery | undefined;
  /** A recovery happened and no checkpoint completed since: a failure now is recovered globally. */
  private settlingSince: number | undefined;
  /** Recoveries waiting for free slots, woken when a worker registers. */
  private readonly slotWaiters: (() => void)[] = [];

  /** Recoveries queued or running. */
  private queued = 0;

  constructor(private readonly job: JobMaster) {}

  /** A recovery is queued or running (a rescale must wait). */
  get busy(): boolean {
    return this.queued > 0 || this.pending !== undefined;
  }

  /** A checkpoint completed: the settling window after a recovery closes. */
  settled(): void {
    this.settlingSince = undefined;
  }

  wakeSlotWaiters(): void {
    for (const wake of this.slotWaiters.splice(0)) wake();
  }

  jobEnded(state: string): void {
    this.abandon(`the job ended ${state} during the recovery`);
    this.wakeSlotWaiters();
  }

  /** The recovery in progress, if any, will not complete. */
  abandon(reason: string): void {
    this.pending?.handle.fail(reason);
    this.pending = undefined;
  }

  taskFailed(taskIds: readonly string[], reason: string): void {
    const job = this.job;
    if (job.terminal || job.cancelling) return;
    if (!job.recoverable || !job.deployed) {
      job.failJob(reason);
      return;
    }
    const detected = Date.now();
    this.queued++;
    this.chain = this.chain
      .then(() => this.recover(taskIds, reason, detected))
      .finally(() => this.queued--)
      .catch((e: unknown) => {
        job.logger.error({ jobId: job.id, err: e }, 'recovery failed');
        job.pushCancel();
        job.endJob('FAILED', `${reason}; the recovery failed: ${e instanceof Error ? e.message : String(e)}`);
      });
  }

  /** Waits until the recoveries queued so far are done (tests). */
  idle(): Promise<void> {
    return this.chain;
  }

  private async recover(failedIds: readonly string[], reason: string, detected: number): Promise<void> {
    const job = this.job;
    if (job.terminal || job.cancelling) return;
    const failed = failedIds.filter((id) => job.tasks.has(id));
    if (failed.length === 0) return;
    const configured = getConfig(job.plan.config, CoreOptions.FAILOVER_STRATEGY);
    const again = this.pending !== undefined && failed.some((id) => this.pending!.waiting.has(id));
    const unsettled = !again && this.settlingSince !== undefined;
    if (this.pending !== undefined) {
      this.pending.handle.fail(`${reason} before the recovery completed`);
      this.pending = undefined;
    }
    const checkpointing = job.checkpointing!;
    await checkpointing.stop(reason);
    let decision: RecoveryDecision;
    // During a live rescale some tasks may have switched channels at its barrier: only a global restore is consistent.
    const rescaling = job.rescaling.active;
    if (configured === 'global' || again || unsettled || rescaling) {
      decision = planRecovery({ plan: job.plan, failed, configured: 'global', unreplayable: new Set() });
      if (again) decision = { ...decision, reason: `a task failed again while it was being recovered (${failed.join(', ')})` };
      else if (rescaling) decision = { ...decision, reason: `${failed.join(', ')} failed during a live rescale: the job restores globally at the parallelism it had` };
      else if (unsettled && configured !== 'global') {
        decision = { ...decision, reason: `${failed.join(', ')} failed ${Date.now() - this.settlingSince!} ms after an earlier recovery, before a checkpoint completed after it` };
      }
    } else {
      const live = new Set([...job.tasks.values()].filter((t) => !failed.includes(t.taskId) && job.isLive(t.workerId)).map((t) => t.workerId));
      const unreplayable = new Set<string>();
      await Promise.all(
        [...live].map(async (w) => {
          const channels = await job.gateway.replayStatus(job.id, w).catch(() => [] as readonly string[]);
          for (const c of channels) unreplayable.add(c);
        }),
      );
      decision = planRecovery({ plan: job.plan, failed, configured: 'single-task', unreplayable });
    }
    const latest = await checkpointing.latestValid();
    // Replay buffers reach back to the last completed checkpoint only: a task restored from an
    // older one (the newest is corrupt) would miss records, so everything rolls back.
    const newest = checkpointing.lastCompleted();
    if (decision.strategy !== 'global' && newest !== undefined && (latest === undefined || latest.checkpointId < newest)) {
      decision = {
        ...planRecovery({ plan: job.plan, failed, configured: 'global', unreplayable: new Set() }),
        reason: `checkpoint ${newest} cannot be restored, and replay reaches back only to it: every task restores checkpoint ${latest?.checkpointId ?? 'none'}`,
      };
    }
    job.logger.warn(
      { jobId: job.id, strategy: decision.strategy, tasks: decision.tasks, failed, why: decision.reason, checkpointId: latest?.checkpointId ?? null },
      `failover: ${decision.strategy} recovery of ${decision.tasks.length} task(s): ${decision.reason}`,
    );
    // A global restore is a failure of the job; a single-task or region recovery one of each failed task.
    const verdict = decision.strategy === 'global' ? job.restartStrategy.jobFailed() : job.restartStrategy.tasksFailed(failed);
    if (!verdict.restart) {
      job.failRefused(reason, verdict);
      return;
    }
    if (decision.strategy !== 'global') {
      await job.restartStrategy.wait(verdict.delayMs);
      if (job.terminal || job.cancelling) return;
    }
    const handle = job.events.begin({ time: detected, strategy: decision.strategy, tasks: decision.tasks, reason: `${reason}; ${decision.reason}`, checkpointId: latest?.checkpointId ?? null, failed });
    job.restarts++;
    if (decision.strategy === 'global') {
      await this.restartJob(reason, verdict.delayMs, false, handle, latest ?? null);
      return;
    }
    try {
      await this.rollBack(decision, failed, latest, handle);
    } catch (e) {
      if (job.cancelling || job.terminal) {
        // The cancel fenced the new attempts: they never start, so they count as cancelled.
        for (const id of decision.tasks) {
          const t = job.tasks.get(id);
          if (t !== undefined && t.state === 'DEPLOYING') t.state = 'CANCELED';
        }
        job.maybeFinish();
        return;
      }
      // A deployment went wrong (e.g. the chosen worker died too): fall back to a global restore.
      const why = `the ${decision.strategy} recovery failed (${e instanceof Error ? e.message : String(e)}): restoring globally`;
      job.logger.warn({ jobId: job.id, err: e }, why);
      (this.pending as PendingRecovery | undefined)?.handle.fail(why);
      this.pending = undefined;
      await checkpointing.stop();
      const globalVerdict = job.restartStrategy.jobFailed();
      if (!globalVerdict.restart) {
        job.failRefused(why, globalVerdict);
        return;
      }
      const all = job.plan.tasks.map((t) => t.id);
      const globalHandle = job.events.begin({ time: Date.now(), strategy: 'global', tasks: all, reason: why, checkpointId: latest?.checkpointId ?? null, failed });
      await this.restartJob(why, globalVerdict.delayMs, false, globalHandle, latest ?? null);
    }
  }

  /**
   * Global restore: cancel what is left of the job, wait `delayMs` (the restart strategy's
   * answer), place every task again on the live workers and deploy them restoring the latest
   * valid complete checkpoint (ids continue). `handle`: the
   * recovery event it completes once every task runs; `chosen`: the checkpoint the recovery
   * already chose (read again otherwise; null: none).
   */
  async restartJob(reason: string, delayMs: number, count = true, handle?: RecoveryEventHandle, chosen?: CheckpointMetadata | null): Promise<void> {
    const job = this.job;
    job.restarting = true;
    job.rescaling.abandon(`the job restarts globally: ${reason}`);
    if (count) job.restarts++;
    job.logger.warn({ jobId: job.id, job: job.name, reason, restart: job.restarts }, 'global restore: every task restarts from the latest checkpoint');
    const checkpointing = job.checkpointing!;
    checkpointing.current?.abort(reason);
    job.pushCancel();
    await checkpointing.stop();
    await job.restartStrategy.wait(delayMs);
    try {
      job.scheduler.release(job.id);
    } catch {
      // nothing placed
    }
    await this.waitForFreeSlots(job.scheduler.requiredSlots(job.plan));
    if (job.terminal) {
      job.restarting = false;
      return;
    }
    let placements;
    try {
      placements = job.scheduler.place(job.id, job.plan);
    } catch (e) {
      job.restarting = false;
      job.endJob('FAILED', `${reason}; the restart failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    job.attempt++;
    job.tasks.clear();
    for (const p of placements) job.tasks.set(p.taskId, { taskId: p.taskId, workerId: p.workerId, attempt: job.attempt, state: 'DEPLOYING' });
    const latest = chosen === undefined ? await checkpointing.latestValid() : (chosen ?? undefined);
    if (latest !== undefined) {
      try {
        job.restore = await checkpointing.restoreHandles(latest);
      } catch (e) {
        job.restarting = false;
        job.endJob('FAILED', `${reason}; the restore failed: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
    }
    job.logger.warn(
      { jobId: job.id, job: job.name, attempt: job.attempt, checkpointId: latest?.checkpointId ?? null },
      latest === undefined ? 'restarting from the beginning (no complete checkpoint)' : 'restarting from a checkpoint',
    );
    job.persist();
    checkpointing.renew();
    job.deployed = false;
    job.restarting = false;
    // Waiting before the deployment: an in-process task may report RUNNING at once.
    if (handle !== undefined) this.pending = { handle, waiting: new Map([...job.tasks.values()].map((t) => [t.taskId, t.attempt])) };
    void job.deploy(checkpointing.nextCheckpointId - 1);
  }

  /** The single-task (or region) part of a recovery: new attempts of the rolled-back tasks, rewired neighbours. */
  private async rollBack(decision: RecoveryDecision, failed: readonly string[], latest: CheckpointMetadata | undefined, handle: RecoveryEventHandle): Promise<void> {
    const job = this.job;
    const rollback = new Set(decision.tasks);
    // Live tasks widened into the rollback stop first.
    const liveRolled = [...job.tasks.values()].filter((t) => rollback.has(t.taskId) && !failed.includes(t.taskId) && job.isLive(t.workerId));
    for (const w of new Set(liveRolled.map((t) => t.workerId))) {
      const mine = liveRolled.filter((t) => t.workerId === w);
      job.gateway.cancel(job.id, w, { tasks: mine.map((t) => t.taskId), before: Object.fromEntries(mine.map((t) => [t.taskId, t.attempt + 1])) });
    }
    // Determinants of each rolled-back task with outputs, from a live downstream task (the longest copy).
    const determinants = new Map<string, readonly Determinant[]>();
    await Promise.all(
      decision.tasks.map(async (taskId) => {
        const holders = new Set(job.plan.channels.filter((c) => c.sourceTask === taskId && !rollback.has(c.targetTask)).map((c) => job.tasks.get(c.targetTask)!.workerId));
        const copies: (readonly Determinant[])[] = [];
        for (const w of holders) {
          if (!job.isLive(w)) continue;
          const entries = await job.gateway.determinantsOf(job.id, w, taskId).catch(() => undefined);
          if (entries !== undefined) copies.push(entries);
        }
        determinants.set(taskId, longestDeterminants(copies));
      }),
    );
    // New attempts, on live workers with a free slot (a killed worker's replacement may still be starting).
    // One free slot per homeless task keeps the job spread (a lost worker's replacement registers
    // within moments); when the wait runs out, `replace` falls back to room in the job's shared slots.
    const homeless = decision.tasks.filter((id) => !job.isLive(job.tasks.get(id)!.workerId)).length;
    await this.waitForFreeSlots(homeless);
    if (job.terminal) throw new Error('the job ended during the recovery');
    job.attempt++;
    const dead = failed.map((id) => job.tasks.get(id)!.workerId);
    for (const taskId of decision.tasks) {
      const placement = job.scheduler.replace(job.id, taskId, dead);
      const task = job.tasks.get(taskId)!;
      task.workerId = placement.workerId;
      task.attempt = job.attempt;
      task.state = 'DEPLOYING';
      task.error = undefined;
      task.metrics = undefined; // the old attempt's counts are not the new one's
    }
    const endpoints = job.endpoints();
    const attempts = job.attempts();
    this.pending = { handle, waiting: new Map(decision.tasks.map((id) => [id, job.attempt])) };
    const checkpointing = job.checkpointing!;
    const staleCheckpointsThrough = checkpointing.nextCheckpointId - 1;
    await Promise.all(
      decision.tasks.map(async (taskId) => {
        const task = job.tasks.get(taskId)!;
        let restore: RestoreHandles | undefined;
        if (latest !== undefined && latest.tasks[taskId] !== undefined) restore = await checkpointing.restoreHandles(latest, taskId);
        else if (job.restore !== undefined && latest === undefined) restore = job.restore; // no checkpoint since the savepoint the job started from
        await job.gateway.deploy({ jobId: job.id, workerId: task.workerId, tasks: [{ taskId, attempt: task.attempt, determinants: determinants.get(taskId) }], endpoints, attempts, restore, staleCheckpointsThrough, overrides: job.rescaling.overrides });
      }),
    );
    const restarted: Record<string, { attempt: number; endpoint: string }> = {};
    for (const taskId of decision.tasks) restarted[taskId] = { attempt: job.attempt, endpoint: endpoints[taskId] };
    for (const w of job.workersOf()) job.gateway.rewire(job.id, w, restarted);
    job.persist();
    this.settlingSince = Date.now();
    checkpointing.renew().start();
    // A cancel that came while the new attempts were deploying stops them too.
    if (job.cancelling) job.pushCancel();
  }

  /** A task of the recovery in progress reported in: the recovery completes when all did. */
  recovered(taskId: string, attempt: number): void {
    const pending = this.pending;
    if (pending === undefined || pending.waiting.get(taskId) !== attempt) return;
    pending.waiting.delete(taskId);
    if (pending.waiting.size > 0) return;
    const event = pending.handle.complete();
    this.pending = undefined;
    this.job.logger.info({ jobId: this.job.id, strategy: event.strategy, tasks: event.tasks, durationMs: event.durationMs }, 'recovery complete');
  }

  /**
   * Waits until the scheduler has `needed` free slots: a lost worker's replacement registers
   * within moments, and a recovery should run on it rather than fail or widen. Gives up after
   * the job master's `slotWaitMs`; true when the slots are there.
   */
  private async waitForFreeSlots(needed: number): Promise<boolean> {
    const job = this.job;
    if (job.scheduler.freeSlots() >= needed) return true;
    const deadline = Date.now() + job.slotWaitMs;
    job.logger.warn({ jobId: job.id, needed, free: job.scheduler.freeSlots(), waitMs: deadline - Date.now() }, 'recovery: waiting for workers with free slots');
    while (job.scheduler.freeSlots() < needed && !job.terminal) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.slotWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return job.scheduler.freeSlots() >= needed;
  }
}
