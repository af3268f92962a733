import type { ExecutionPlan, Logger, TaskMetrics } from '@mobius/interface';
import type { AutoscalerDecision } from './autoscaler-limits.js';
import type { AutoscalerEvent } from './autoscaler-event.js';
import { AutoscalerEventLog } from './autoscaler-event-log.js';
import { autoscalerInput } from './autoscaler-input.js';
import type { AutoscalerOptions } from './autoscaler-options.js';
import { AutoscalerPolicy } from './autoscaler-policy.js';

/** What the loop needs of a job (the job master gives its own; the loop's tests a fake). */
export interface AutoscaledJob {
  readonly id: string;
  /** The job's current plan: a rescale replaces it. */
  readonly plan: ExecutionPlan;
  /** Why nothing may be evaluated now (the job not running, a rescale or a recovery in progress); undefined when it may. */
  blocker(): string | undefined;
  /** Changes whenever the job's tasks change (a rescale, a recovery, a restart: the job master's attempt counter). */
  generation(): number;
  /** Load figures of the job's current task attempts. */
  taskMetrics(): readonly TaskMetrics[];
  /** Slots free for the job to grow into; undefined: no limit. */
  freeSlots(): number | undefined;
  /** Rescales one vertex, trigger `autoscaler`; resolves once its new tasks run. */
  rescale(vertexId: string, parallelism: number): Promise<unknown>;
}

/** Timers of the loop, injectable for tests. */
export interface LoopTimer {
  now(): number;
  /** Calls `fn` once after `ms`; returns what cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** The process's clock and timers; a pending tick never keeps the process alive. */
export const systemLoopTimer: LoopTimer = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

export interface AutoscalerLoopOptions {
  readonly job: AutoscaledJob;
  readonly options: AutoscalerOptions;
  readonly logger: Logger;
  readonly timer?: LoopTimer;
  /** Where events go (a new log of 1000 by default). */
  readonly events?: AutoscalerEventLog;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const codeOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * The autoscaler's loop in the job master: every `autoscaler.interval.ms` while the job runs it
 * hands the policy the job's figures, keeps the event, and applies a taken decision with one
 * live rescale after another (lowerings first, as the policy orders them), each awaited. The
 * next tick is timed from the end of the previous one, so a slow rescale delays it and ticks
 * never overlap or pile up.
 *
 * A tick while the job is not running, or while a rescale or a recovery is in progress, is
 * skipped with an event (`outcome: 'skipped'`). A change the loop did not make (a user's
 * rescale, a recovery) and each change it made start the policy's stabilization time again,
 * from when the new tasks run. A rescale that fails is an event (`outcome: 'failed'`), the rest
 * of that decision is dropped, and the loop goes on.
 */
export class AutoscalerLoop {
  readonly events: AutoscalerEventLog;
  private readonly job: AutoscaledJob;
  private readonly options: AutoscalerOptions;
  private readonly logger: Logger;
  private readonly timer: LoopTimer;
  private policy: AutoscalerPolicy | undefined;
  private cancelTick: (() => void) | undefined;
  private running = false;
  private generation = 0;
  private tickDone: Promise<void> = Promise.resolve();

  constructor(options: AutoscalerLoopOptions) {
    this.job = options.job;
    this.options = options.options;
    this.logger = options.logger;
    this.timer = options.timer ?? systemLoopTimer;
    this.events = options.events ?? new AutoscalerEventLog();
  }

  /** The loop runs (started, not stopped). */
  get active(): boolean {
    return this.running;
  }

  /** Starts evaluating, when `autoscaler.enabled`; the stabilization time starts now. Once only: a second call does nothing. */
  start(): void {
    if (!this.options.enabled || this.running || this.policy !== undefined) return;
    this.running = true;
    this.policy = new AutoscalerPolicy(this.options, () => this.timer.now());
    this.generation = this.job.generation();
    this.logger.info({ jobId: this.job.id, intervalMs: this.options.intervalMs }, 'autoscaler started');
    this.schedule();
  }

  /** Stops for good (the job ended). A rescale being applied completes or fails on its own; no decision is applied after it. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.cancelTick?.();
    this.cancelTick = undefined;
    this.logger.info({ jobId: this.job.id }, 'autoscaler stopped');
  }

  /** Resolves when the tick in progress (if any) is done (tests). */
  idle(): Promise<void> {
    return this.tickDone;
  }

  private schedule(): void {
    if (!this.running) return;
    this.cancelTick = this.timer.after(this.options.intervalMs, () => {
      this.cancelTick = undefined;
      this.tickDone = this.tick().then(
        () => this.schedule(),
        (e: unknown) => {
          this.logger.error({ jobId: this.job.id, err: e }, 'autoscaler tick failed');
          this.schedule();
        },
      );
    });
  }

  private async tick(): Promise<void> {
    const policy = this.policy!;
    const blocked = this.job.blocker();
    if (blocked !== undefined) {
      this.keep(this.outcome('skipped', `skipped: ${blocked}`));
      return;
    }
    this.sawChanges(policy);
    let event: AutoscalerEvent;
    try {
      event = policy.evaluate(autoscalerInput(this.job.plan, this.job.taskMetrics(), this.job.freeSlots()));
    } catch (e) {
      // The plan and figures come from the job itself: a graph the policy refuses is a bug, not a reason to stop.
      this.keep(this.outcome('skipped', `skipped: the job's figures could not be evaluated (${message(e)})`));
      return;
    }
    this.keep(event);
    if (event.taken) await this.apply(event.decisions, policy);
  }

  /** A change made by someone else since the last tick (a user's rescale, a recovery) restarts the stabilization time. */
  private sawChanges(policy: AutoscalerPolicy): void {
    const now = this.job.generation();
    if (now === this.generation) return;
    this.generation = now;
    policy.noteChange();
  }

  private async apply(decisions: readonly AutoscalerDecision[], policy: AutoscalerPolicy): Promise<void> {
    for (let i = 0; i < decisions.length && this.running; i++) {
      const d = decisions[i];
      try {
        await this.job.rescale(d.vertex, d.to);
      } catch (e) {
        const code = codeOf(e);
        const left = decisions.slice(i + 1).map((x) => `"${x.vertex}" ${x.from} → ${x.to}`);
        const reason = `"${d.vertex}" ${d.from} → ${d.to} failed${code === undefined ? '' : ` (${code})`}: ${message(e)}${left.length > 0 ? `; not applied: ${left.join(', ')}` : ''}`;
        this.logger.warn({ jobId: this.job.id, vertex: d.vertex, from: d.from, to: d.to, err: e }, 'autoscaler: rescale failed');
        this.keep(this.outcome('failed', reason));
        break;
      } finally {
        // The stabilization time runs from when the new tasks run (or the failed attempt ended), not from the decision.
        this.generation = this.job.generation();
        policy.noteChange();
      }
    }
  }

  private outcome(outcome: 'skipped' | 'failed', reason: string): AutoscalerEvent {
    return { kind: 'autoscaler', time: this.timer.now(), taken: false, reason, rates: {}, decisions: [], outcome };
  }

  private keep(event: AutoscalerEvent): void {
    this.events.add(event);
    if (event.taken || event.outcome === 'failed') this.logger.info({ jobId: this.job.id, ...event }, `autoscaler: ${event.reason}`);
    else this.logger.debug({ jobId: this.job.id, taken: event.taken, reason: event.reason }, 'autoscaler evaluation');
  }
}
