import type { ChannelReceiver, Frame } from '@mobius/interface';
import { Signal } from './signal.js';

/**
 * The inputs of a task: takes frames from its channels round-robin, one frame at a time,
 * and swallows end-of-stream markers, counting the channels still open.
 */
export class InputGate {
  private readonly ended: boolean[];
  private open: number;
  private next = 0;
  private readonly readable = new Signal();

  constructor(private readonly receivers: readonly ChannelReceiver[]) {
    this.ended = receivers.map(() => false);
    this.open = receivers.length;
    for (const r of receivers) r.onReadable(() => this.readable.notify());
  }

  /** True once every channel delivered its end marker. */
  get finished(): boolean {
    return this.open === 0;
  }

  /** The next data or barrier frame, or undefined if none is queued now. */
  poll(): Frame | undefined {
    const rs = this.receivers;
    const n = rs.length;
    for (let k = 0; k < n; k++) {
      let i = this.next + k;
      if (i >= n) i -= n;
      if (this.ended[i]) continue;
      const frame = rs[i].poll();
      if (frame === undefined) continue;
      this.next = i + 1 === n ? 0 : i + 1;
      if (frame.kind === 'end') {
        this.ended[i] = true;
        this.open--;
        return this.poll();
      }
      return frame;
    }
    return undefined;
  }

  whenReadable(): Promise<void> {
    return this.readable.wait();
  }

  /** Wakes a task waiting for input (cancel). */
  wake(): void {
    this.readable.notify();
  }

  close(): void {
    for (const r of this.receivers) r.close();
  }
}
