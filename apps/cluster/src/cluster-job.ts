import type { CheckpointStore, ExecutionPlan, JobState, LogicalGraph, RecoveryEvent, RescaleEvent } from '@mobius/interface';
import { RecoveryEventLog } from '@mobius/failover';
import { operatorLoads, type AutoscalerEvent, type JobMaster, type JobTask, type OperatorLoad } from '@mobius/jobmaster';
import { currentLoad, loadFieldsOf } from './task-load-fields.js';

/** One entry of a job's event log (`GET /jobs/:id/events`). */
export type JobEvent = RecoveryEvent | RescaleEvent | AutoscalerEvent;

/** One task of a cluster job, as the coordinator sees it. */
export type ClusterTask = JobTask;

/** What a job shows: its job master's, or (before one is attached, e.g. in tests) its own. */
interface JobView {
  state: JobState;
  error: string | undefined;
  attempt: number;
  restarts: number;
  startTime: number | undefined;
  endTime: number | undefined;
  readonly tasks: Map<string, ClusterTask>;
  readonly events: RecoveryEventLog;
}

/**
 * A job on the cluster, as the coordinator keeps it: what only the cluster knows (the bundle,
 * its arguments, the checkpoint folder, the take-back after a coordinator restart) around the
 * job master that runs the job's life; the JSON the HTTP API serves.
 */
export class ClusterJob {
  readonly submitTime = Date.now();
  /** The job's own arguments (process.argv.slice(2) in the job module). */
  args: readonly string[] = [];
  store: CheckpointStore | undefined;
  checkpointDir = '';
  /** Set while a restarted coordinator waits for the workers to report the job's tasks. */
  resuming: { readonly deadline: number; readonly reported: Set<string> } | undefined;
  private master: JobMaster | undefined;
  private readonly own: JobView = { state: 'CREATED', error: undefined, attempt: 0, restarts: 0, startTime: undefined, endTime: undefined, tasks: new Map(), events: new RecoveryEventLog() };
  private readonly settledListeners: ((job: ClusterJob) => void)[] = [];

  constructor(
    readonly id: string,
    readonly name: string,
    private readonly submittedPlan: ExecutionPlan,
    readonly bundle: string,
    /** The job's graph: with it, the job can be rescaled live. */
    readonly graph?: LogicalGraph,
  ) {}

  /** The job's plan: as submitted, then as its live rescales changed it. */
  get plan(): ExecutionPlan {
    return this.master?.plan ?? this.submittedPlan;
  }

  /** The job master runs the job from now on. */
  attach(master: JobMaster): void {
    this.master = master;
    master.onEnded(() => {
      for (const l of this.settledListeners.splice(0)) l(this);
    });
  }

  get jobMaster(): JobMaster | undefined {
    return this.master;
  }

  private get view(): JobView {
    return this.master ?? this.own;
  }

  get state(): JobState {
    return this.view.state;
  }
  set state(state: JobState) {
    this.view.state = state;
  }
  get error(): string | undefined {
    return this.view.error;
  }
  get attempt(): number {
    return this.view.attempt;
  }
  set attempt(attempt: number) {
    this.view.attempt = attempt;
  }
  get restarts(): number {
    return this.view.restarts;
  }
  set restarts(restarts: number) {
    this.view.restarts = restarts;
  }
  get startTime(): number | undefined {
    return this.view.startTime;
  }
  get endTime(): number | undefined {
    return this.view.endTime;
  }
  get tasks(): Map<string, ClusterTask> {
    return this.view.tasks;
  }
  /** Every recovery. */
  get events(): RecoveryEventLog {
    return this.view.events;
  }

  /** GET /jobs/:id/events: the job's recoveries, live rescales and autoscaler decisions, oldest first. */
  eventList(): readonly JobEvent[] {
    const rescales = this.master?.rescaling.events ?? [];
    const autoscaler = this.master?.autoscalerEvents() ?? [];
    return [...this.events.list(), ...rescales, ...autoscaler].sort((a, b) => a.time - b.time);
  }

  get terminal(): boolean {
    return this.state === 'FINISHED' || this.state === 'CANCELED' || this.state === 'FAILED';
  }

  /** Moves a job without a job master to a terminal state once; later calls are ignored. Returns true if it moved. */
  settle(state: 'FINISHED' | 'CANCELED' | 'FAILED', error?: string): boolean {
    if (this.terminal) return false;
    if (this.master !== undefined) {
      this.master.endJob(state, error);
      return true;
    }
    this.own.state = state;
    this.own.error = error;
    this.own.endTime = Date.now();
    for (const l of this.settledListeners.splice(0)) l(this);
    return true;
  }

  onSettled(listener: (job: ClusterJob) => void): void {
    if (this.terminal) listener(this);
    else this.settledListeners.push(listener);
  }

  summary(): Record<string, unknown> {
    return {
      id: this.id,
      name: this.name,
      state: this.state,
      error: this.error ?? null,
      submitTime: this.submitTime,
      startTime: this.startTime ?? null,
      endTime: this.endTime ?? null,
      attempt: this.attempt,
      restarts: this.restarts,
      lastCheckpoint: this.master?.checkpointing?.lastCompleted() ?? null,
    };
  }

  /**
   * The records a task processed, as last reported: its records in, or for a source task (its
   * vertex has no input channel) that reports none in, its records out. 0 before any report.
   */
  recordsProcessed(task: ClusterTask): number {
    const m = task.metrics;
    if (m === undefined) return 0;
    if (m.recordsIn === 0) {
      const vertex = this.plan.tasks.find((t) => t.id === task.taskId)?.vertexId;
      const isSource = vertex !== undefined && !this.plan.edges.some((e) => e.targetVertex === vertex && e.sourceVertex !== vertex);
      if (isSource) return m.recordsOut;
    }
    return m.recordsIn;
  }

  details(): Record<string, unknown> {
    const vertexOf = new Map(this.plan.tasks.map((t) => [t.id, t]));
    return {
      ...this.summary(),
      graphHash: this.plan.graphHash,
      plan: this.plan,
      tasks: [...this.tasks.values()].map((t) => ({
        taskId: t.taskId,
        vertex: vertexOf.get(t.taskId)?.vertexId,
        index: vertexOf.get(t.taskId)?.index,
        state: t.state,
        workerId: t.workerId,
        attempt: t.attempt,
        recordsIn: t.metrics?.recordsIn ?? 0,
        recordsOut: t.metrics?.recordsOut ?? 0,
        recordsProcessed: this.recordsProcessed(t),
        ...eventTimeOf(t),
        ...loadFieldsOf(t),
        error: t.error ?? null,
      })),
      operators: this.operatorLoads(),
    };
  }

  /** Each operator's load, summed over its running tasks (see OperatorLoad). */
  operatorLoads(): OperatorLoad[] {
    const running = [];
    for (const t of this.tasks.values()) {
      const m = currentLoad(t);
      if (m !== undefined) running.push(m);
    }
    return operatorLoads(this.plan, running);
  }
}

/**
 * A task's event-time figures for `GET /jobs/:id`: its current watermark (null before the first;
 * the final +Infinity of a bounded input shows as null too, JSON has no Infinity), the watermark
 * lag (now − watermark, ms) and its late-record and timer counts.
 */
export function eventTimeOf(task: ClusterTask, now = Date.now()): Record<string, number | null> {
  const m = task.metrics;
  const wm = m?.currentWatermark;
  const finite = wm !== undefined && Number.isFinite(wm);
  return {
    currentWatermark: finite ? wm : null,
    watermarkLagMs: finite ? now - wm : null,
    lateRecordsDropped: m?.lateRecordsDropped ?? 0,
    timersPending: m?.timersPending ?? 0,
  };
}
