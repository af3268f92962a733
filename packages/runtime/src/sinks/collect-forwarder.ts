import { CoreOptions, MobiusError, getConfig, type ControlMessage, type ExecutionPlan } from '@mobius/interface';
import { registerCollectTarget, type CollectOutlet, type CollectTarget } from './collect-target.js';

/** Sends a control request to the coordinator and resolves with its reply. */
export type CollectSend = (message: ControlMessage) => Promise<ControlMessage>;

const NOTHING: readonly unknown[] = [];

/**
 * A collect target for one job in a process that runs tasks for a caller elsewhere (a cluster worker, a task thread): each collect sink task's records go to the caller's side (the coordinator, the main thread)
 * in batches over the control channel (`collect` requests), which keeps them for the client that
 * submitted the job. One batch is in flight per task and one fills meanwhile; the sink waits
 * when both are full, or while the coordinator says its buffer of the job is full
 * (`collect-full`), so a worker holds at most two batches per collect task.
 */
export class CollectForwarder implements CollectTarget {
  constructor(
    private readonly jobId: string,
    private readonly send: CollectSend,
    private readonly batchSize: number,
    private readonly lingerMs: number,
  ) {}

  outlet(collectId: string, taskIndex: number): CollectOutlet {
    return new ForwardingOutlet(this.jobId, collectId, taskIndex, this.send, this.batchSize, this.lingerMs);
  }
}

class ForwardingOutlet implements CollectOutlet {
  private batch: unknown[] = [];
  private sending: Promise<void> | undefined;
  /** The coordinator's last reply said its buffer is full: ask for room before sending records. */
  private full = false;
  private failure: { readonly error: unknown } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private waiters: (() => void)[] = [];
  private readonly linger = (): void => {
    this.timer = undefined;
    this.kick();
  };

  constructor(
    private readonly jobId: string,
    private readonly collectId: string,
    private readonly taskIndex: number,
    private readonly send: CollectSend,
    private readonly batchSize: number,
    private readonly lingerMs: number,
  ) {}

  push(record: unknown): boolean {
    if (this.failure !== undefined) throw this.failure.error;
    this.batch.push(record);
    if (this.batch.length >= this.batchSize) this.kick();
    else if (this.timer === undefined && this.sending === undefined) this.timer = setTimeout(this.linger, this.lingerMs);
    return this.writable;
  }

  private get writable(): boolean {
    return this.batch.length < this.batchSize || (this.sending === undefined && !this.full);
  }

  whenWritable(): Promise<void> {
    if (this.writable || this.failure !== undefined) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async flush(): Promise<void> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure.error;
      if (this.sending !== undefined) await this.sending;
      else if (this.batch.length === 0) return;
      else this.kick();
    }
  }

  private kick(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.sending === undefined && this.batch.length > 0) this.sending = this.drain();
  }

  /** Sends batches until none is left; while the coordinator is full, asks for room with empty requests (it answers once there is room, or after a while). */
  private async drain(): Promise<void> {
    try {
      while (this.batch.length > 0) {
        let records = NOTHING;
        if (!this.full) {
          records = this.batch;
          this.batch = [];
          this.release();
        }
        const reply = await this.send({ type: 'collect', jobId: this.jobId, collectId: this.collectId, taskIndex: this.taskIndex, records });
        if (reply.type === 'error') throw new MobiusError(reply.code, reply.message);
        this.full = reply.type === 'collect-full';
      }
    } catch (e) {
      this.failure = { error: e };
    } finally {
      this.sending = undefined;
      this.release();
    }
  }

  private release(): void {
    if (!this.writable && this.failure === undefined) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** A control request for room waits up to a second at the coordinator: this leaves it ample time on a loaded machine. */
const COLLECT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Registers, in this process (a cluster worker, a task thread), the collect forwarder of a job that has collect sinks, and
 * returns the call that removes it (undefined for a job without one).
 */
export function registerCollectForwarder(
  jobId: string,
  plan: ExecutionPlan,
  request: (message: ControlMessage, timeoutMs: number) => Promise<ControlMessage>,
  options: { readonly batchSize?: number } = {},
): (() => void) | undefined {
  if (!plan.operators.some((o) => o.kind === 'collect')) return undefined;
  const send: CollectSend = (message) => request(message, COLLECT_REQUEST_TIMEOUT_MS);
  const batchSize = options.batchSize ?? getConfig(plan.config, CoreOptions.BATCH_SIZE);
  return registerCollectTarget(jobId, new CollectForwarder(jobId, send, batchSize, getConfig(plan.config, CoreOptions.LINGER_MS)));
}

/**
 * Records per collect batch from a task thread to its main thread: a batch crosses in one
 * transferred buffer, so the round trip per batch (not the bytes) is what costs; a worker
 * process's batches to the coordinator keep `runtime.batch.size`.
 */
export const THREAD_COLLECT_BATCH = 8192;
