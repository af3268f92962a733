import type { Barrier } from '@mobius/interface';
import { Signal } from '../signal.js';
import type { ChannelOutput } from './channel-output.js';

/** Every outgoing channel of one task, with the backlog the task waits on. */
export class TaskOutputs {
  readonly channels: ChannelOutput[] = [];
  /** Channels whose outbox is being pumped. */
  backlog = 0;
  /** Frames waiting for credit across all channels. */
  queuedFrames = 0;
  recordsOut = 0;
  stopped = false;
  private failure: unknown = undefined;
  private readonly drained = new Signal();

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

  pumpDone(): void {
    this.backlog--;
    if (this.backlog === 0) this.drained.notify();
  }

  fail(error: unknown): void {
    this.failure ??= error;
    this.drained.notify();
  }

  /** Stops pumping and wakes waiters (cancel). */
  stop(): void {
    this.stopped = true;
    this.drained.notify();
  }

  closeAll(): void {
    for (const ch of this.channels) ch.close();
  }
}
