// The autoscaler scenario of issue 12, shared by the in-process test and the job module that
// `mobius run` runs on task threads (integration-tests/fixtures/autoscaler-job.ts): a slow map
// fed by a paced source at a rate one task cannot keep up with, then at a lower one. No vitest
// here: the job module imports this file outside the test runner.
import type { AutoscalerEvent, JobHandle, SourceContext, StreamingContextBuilder } from 'mobius';
import type { RescaleEvent } from '@mobius/interface';

export const SCENARIO = {
  intervalMs: 1000,
  stabilizationMs: 3000,
  scaleDownDelayMs: 4000,
  windowMs: 2000,
  target: 0.7,
  boundary: 0.1,
  // Two map tasks is what the scenario aims at (a 2-core machine runs two tasks truly in
  // parallel): the bound keeps a figure spoilt by the load of the machine from asking for a third.
  maxParallelism: 2,
  /** Evaluations in a row, after the figures settled, that must leave the parallelism alone. */
  steady: 4,
  /** Demand while one task cannot keep up, per record/s one map task takes: two are busy 1.3 / 2 = 0.65. */
  high: 1.3,
  /** Demand after the drop: one task is busy 0.4, and DS2 wants ceil(0.4 / 0.7) = 1. */
  low: 0.4,
} as const;

/** The job's options for the scenario: the autoscaler's, small frames, one record in flight per map task. */
export function scenarioOptions(builder: StreamingContextBuilder, checkpointDir: string): StreamingContextBuilder {
  return (
    builder
      .option('checkpoint.interval.ms', 500)
      .option('checkpoint.dir', checkpointDir)
      .option('metrics.load.window.ms', SCENARIO.windowMs)
      // Small frames and few credits: what sits in channels is a small part of the backlog.
      .option('runtime.batch.size', 4)
      .option('runtime.channel.credits', 2)
      .option('runtime.async.capacity', 1)
      .option('autoscaler.enabled', true)
      .option('autoscaler.interval.ms', SCENARIO.intervalMs)
      .option('autoscaler.stabilization.ms', SCENARIO.stabilizationMs)
      .option('autoscaler.scale-down.delay.ms', SCENARIO.scaleDownDelayMs)
      .option('autoscaler.target-utilization', SCENARIO.target)
      .option('autoscaler.target-utilization.boundary', SCENARIO.boundary)
      .option('autoscaler.max-parallelism', SCENARIO.maxParallelism)
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A paced source: `rate()` records per second on a schedule, shared evenly by the source's tasks. What it could not emit in time
 * (backpressure) is its backlog, emitted as fast as the job takes it; a producer's buffer holds
 * at most `maxBacklogSeconds` of it, beyond which the oldest are dropped. When the rate changes,
 * the schedule goes on from the current backlog.
 */
export class PacedFeed {
  emitted = 0;
  dropped = 0;
  private base = performance.now();
  private baseCount = 0;
  /** The task's rate the schedule runs at (0 until the first fetch starts it). */
  private current = 0;

  constructor(
    private readonly rate: () => number,
    private readonly maxBacklogSeconds = 2,
  ) {}

  private due(now: number): number {
    return this.baseCount + Math.floor(((now - this.base) * this.current) / 1000);
  }

  /** Records behind the schedule now. */
  backlog(now = performance.now()): number {
    return Math.max(0, this.due(now) - this.emitted - this.dropped);
  }

  async fetch(c: SourceContext<number>): Promise<void> {
    const now = performance.now();
    const rate = this.rate() / c.parallelism;
    if (rate !== this.current) {
      this.baseCount = this.due(now);
      this.base = now;
      this.current = rate;
    }
    let behind = this.backlog(now);
    const most = Math.ceil(this.maxBacklogSeconds * rate);
    if (behind > most) {
      this.dropped += behind - most;
      behind = most;
    }
    if (behind === 0) {
      await sleep(Math.max(1, 1000 / rate));
      return;
    }
    for (let i = 0; i < Math.min(behind, 16); i++) c.collect(this.emitted++);
  }
}

/** The embedded job handle, with its autoscaler and rescale events. */
export type EmbeddedJob = JobHandle & { autoscalerEvents(): readonly AutoscalerEvent[]; rescaleEvents(): readonly RescaleEvent[] };

/** What happened, for the test's assertions. */
export interface ScenarioReport {
  /** Vertex ids of the source and of the slow map. */
  readonly source: string;
  readonly map: string;
  readonly events: readonly AutoscalerEvent[];
  readonly rescales: readonly RescaleEvent[];
  /** When the rate dropped; when the rescales of the raise and of the lowering ended (epoch ms). */
  readonly droppedAt: number;
  readonly raisedAt: number;
  readonly loweredAt: number;
}

/** Evaluations (not skips or failures) after `since` that looked at settled figures. */
export function settled(events: readonly AutoscalerEvent[], since: number): AutoscalerEvent[] {
  return events.filter((e) => e.outcome === undefined && e.time > since && !e.reason.startsWith('stabilizing'));
}

async function until(what: string, ok: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** What the scenario tells the job's source. */
export interface ScenarioControl {
  /**
   * The first raise was decided, from the map's true processing rate per task (records/s) at
   * parallelism 1: a source fed beyond any capacity until then can take its rate from it.
   */
  raised?(perTask: number): void;
  /** The rate holds no longer: the source goes to the low rate. */
  drop(): void;
}

/**
 * Drives the running job through the scenario: waits for the map to be raised to
 * `SCENARIO.maxParallelism` and for `steady` settled evaluations after it, calls `drop()` (the
 * source's rate goes to the low one), waits for the map back at 1 and `steady` settled
 * evaluations after that. The job keeps running; the caller cancels it.
 */
export async function driveScenario(job: EmbeddedJob, control: ScenarioControl): Promise<ScenarioReport> {
  const vertexOf = (name: string): string => job.metrics().find((m) => m.vertexName.startsWith(name))!.taskId.split('#')[0];
  const rescaleEnd = (): number => {
    const last = job.rescaleEvents().at(-1);
    return last === undefined ? 0 : last.time + last.durationMs;
  };
  const failed = (): boolean => job.autoscalerEvents().some((e) => e.outcome === 'failed');
  const firstTaken = (): AutoscalerEvent | undefined => job.autoscalerEvents().find((e) => e.taken);
  await until('the first decision', () => failed() || firstTaken() !== undefined);
  const first = firstTaken();
  const measured = first?.rates[vertexOf('slow')]?.trueProcessingRate;
  if (measured !== undefined && measured !== null) control.raised?.(measured);
  await until('the map raised', () => failed() || job.rescaleEvents().some((e) => e.to === SCENARIO.maxParallelism));
  const raisedAt = rescaleEnd();
  await until('settled evaluations after the raise', () => failed() || settled(job.autoscalerEvents(), raisedAt).length >= SCENARIO.steady);
  const droppedAt = Date.now();
  control.drop();
  await until('the map lowered', () => failed() || job.rescaleEvents().some((e) => e.to === 1));
  const loweredAt = rescaleEnd();
  await until('settled evaluations after the lowering', () => failed() || settled(job.autoscalerEvents(), loweredAt).length >= SCENARIO.steady);
  return { source: vertexOf('paced'), map: vertexOf('slow'), events: [...job.autoscalerEvents()], rescales: [...job.rescaleEvents()], droppedAt, raisedAt, loweredAt };
}
