import type { Barrier, Determinant } from '@mobius/interface';
import type { DeterminantLog } from '../failover/determinant-log.js';
import { Signal } from '../signal.js';
import type { ChannelOutput } from './channel-output.js';
import { ElementTime } from '../element-time.js';

/** Every outgoing channel of one task, with the backlog the task waits on. */
export class TaskOutputs {
  readonly channels: ChannelOutput[] = [];
  /** Channels whose outbox is being pumped. */
  backlog = 0;
  /** Channels holding more than their limit waiting for credit: the task takes no input meanwhile. */
  blocked = 0;
  private readonly relieved = new Signal();
  /** Frames waiting for credit across all channels. */
  queuedFrames = 0;
  /** Records sent, counted per frame as it leaves. */
  recordsOut = 0;
  /**
   * Records handed to the output channels, counted one by one as they enter a batch: the load
   * meter's records out, which must not jump by a whole frame (a frame of a slow operator can
   * hold seconds of work).
   */
  recordsEmitted = 0;
  stopped = false;
  private failure: unknown = undefined;
  private readonly drained = new Signal();
  /** The event time of the record being emitted (shared with the task's operator chain). */
  readonly time = new ElementTime();
  /** The task's determinant log, when its choices must be logged (single-task failover). */
  log: DeterminantLog | undefined;

  /** Determinant entries `channel` has not sent yet (attached to its next frame), or null. */
  determinantsFor(channel: ChannelOutput): readonly Determinant[] | null {
    const log = this.log;
    if (log === undefined) return null;
    const entries = log.since(channel.determinantCursor);
    if (entries === null) return null;
    channel.determinantCursor = log.next;
    if (log.length > 4096) this.dropSentDeterminants();
    return entries;
  }

  /** Drops the log entries every channel has sent. */
  dropSentDeterminants(): void {
    if (this.log === undefined) return;
    let min = this.log.next;
    for (const ch of this.channels) if (ch.determinantCursor < min) min = ch.determinantCursor;
    this.log.dropBefore(min);
  }

  /** Checkpoint `checkpointId` completed: replay buffers drop what came before its barrier. */
  checkpointComplete(checkpointId: number): void {
    for (const ch of this.channels) ch.replay?.trim(checkpointId);
    this.dropSentDeterminants();
  }

  add(channel: ChannelOutput): ChannelOutput {
    this.channels.push(channel);
    return channel;
  }

  flushAll(): void {
    const chs = this.channels;
    for (let i = 0; i < chs.length; i++) chs[i].flush();
  }

  /** Sends a checkpoint barrier on every channel, behind the data already emitted. */
  barrierAll(barrier: Barrier): void {
    for (const ch of this.channels) ch.barrier(barrier);
  }

  endAll(): void {
    for (const ch of this.channels) ch.end();
  }

  /**
   * Resolves when no frame waits for credit (or the task stops); rejects as soon as sending
   * failed on any channel, without waiting for the other channels to drain.
   */
  async whenDrained(): Promise<void> {
    while (this.backlog > 0 && !this.stopped && this.failure === undefined) await this.drained.wait();
    if (this.failure !== undefined) throw this.failure;
  }

  setBlocked(over: boolean): void {
    this.blocked += over ? 1 : -1;
    if (this.blocked === 0) this.relieved.notify();
  }

  /** Resolves when no channel is over its limit (or the task stops); rejects when sending failed. */
  async whenRelieved(): Promise<void> {
    while (this.blocked > 0 && !this.stopped && this.failure === undefined) await this.relieved.wait();
    if (this.failure !== undefined) throw this.failure;
  }

  /** True when a channel holds far beyond its limit: a run() source that does not await collect(). */
  overflowing(maxFrames: number): boolean {
    if (this.queuedFrames > maxFrames && this.channels.some((c) => c.limitBytes === 0)) return true;
    return this.channels.some((c) => c.limitBytes > 0 && c.queuedBytes > 2 * c.limitBytes + 1_048_576);
  }

  pumpDone(): void {
    this.backlog--;
    if (this.backlog === 0) this.drained.notify();
  }

  fail(error: unknown): void {
    this.failure ??= error;
    this.drained.notify();
    this.relieved.notify();
  }

  /** Stops pumping and wakes waiters (cancel). */
  stop(): void {
    this.stopped = true;
    this.drained.notify();
    this.relieved.notify();
  }

  closeAll(): void {
    for (const ch of this.channels) ch.close();
  }
}
