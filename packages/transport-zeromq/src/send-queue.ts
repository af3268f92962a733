import type { Logger } from '@mobius/interface';
import type { Dealer, Router } from 'zeromq';

/**
 * Serialises sends on one socket. zeromq.js allows one pending `send()` per socket, so messages
 * are queued here and a pump awaits each send in turn. The queue is bounded by its users: data
 * messages by channel credits, the rest (OPEN, CREDIT, CLOSE, PING, PONG) by the data they
 * answer or by one-per-interval timers.
 */
export class SendQueue {
  private queue: (Buffer | string)[][] = [];
  private failures = new Map<(Buffer | string)[], (err: unknown) => void>();
  private head = 0;
  private pumping = false;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly socket: Dealer | Router,
    private readonly logger: Logger,
    private readonly what: string,
    /** Called when a send fails (other than because the socket closed); return true to drop silently. */
    private readonly onError?: (err: unknown, message: (Buffer | string)[]) => boolean,
  ) {}

  get pending(): number {
    return this.queue.length - this.head + (this.pumping ? 1 : 0);
  }

  /** Queues a message; `onFail` (if given) handles its send error instead of the queue's handler. */
  push(message: (Buffer | string)[], onFail?: (err: unknown) => void): void {
    if (this.stopped) {
      onFail?.(new Error('socket closed'));
      return;
    }
    this.queue.push(message);
    if (onFail !== undefined) this.failures.set(message, onFail);
    if (!this.pumping) void this.pump();
  }

  /** Resolves when every queued message was handed to ZeroMQ (not necessarily delivered). */
  idle(): Promise<void> {
    if (!this.pumping && this.head >= this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what is queued and accepts nothing more. */
  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.head = 0;
    this.failAll();
    this.wakeIdle();
  }

  private failAll(): void {
    if (this.failures.size === 0) return;
    const failures = [...this.failures.values()];
    this.failures.clear();
    for (const f of failures) f(new Error('socket closed'));
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.head < this.queue.length && !this.stopped) {
        const message = this.queue[this.head];
        this.queue[this.head++] = undefined as unknown as Buffer[];
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        if (this.socket.closed) {
          this.stopped = true; // the finally block fails this message's callback with the rest
          break;
        }
        const onFail = this.failures.size === 0 ? undefined : this.failures.get(message);
        if (onFail !== undefined) this.failures.delete(message);
        try {
          await this.socket.send(message);
        } catch (e) {
          if (onFail !== undefined) {
            onFail(e);
            continue;
          }
          if (this.socket.closed) {
            this.stopped = true;
            break;
          }
          if (this.onError?.(e, message) !== true) {
            this.logger.error({ err: e, socket: this.what }, 'zeromq send failed; message dropped');
          }
        }
      }
    } finally {
      if (this.head >= this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      this.pumping = false;
      if (this.stopped) {
        this.queue = [];
        this.head = 0;
        this.failAll();
      }
      if (this.head < this.queue.length) void this.pump();
      else this.wakeIdle();
    }
  }

  private wakeIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
