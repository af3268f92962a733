import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { TransportError, silentLogger, type Logger } from '@mobius/interface';
import type { FromHub, RingOffer, ToHub } from './hub-protocol.js';
import { threadEndpoint, threadIndexOf } from './thread-endpoint.js';

/** What a thread needs to reach the hub: hand it to the thread (transfer the port) and build its ThreadTransport with it. */
export interface ThreadLink {
  readonly threadIndex: number;
  /** `thread://<pid>/<threadIndex>`. */
  readonly endpoint: string;
  /** The thread's end of its channel to the hub: put it in `transferList` when passing the link to a Worker. */
  readonly port: MessagePort;
}

interface LinkedThread {
  readonly endpoint: string;
  readonly port: MessagePort;
  started: boolean;
  /** Rings offered to this thread before its transport started; bounded by the channels of the plan. */
  held: RingOffer[];
}

/**
 * Introduces the threads of one process to each other; lives in the main thread. Each thread
 * gets a link (`link()`), builds its `ThreadTransport` on it, and the hub relays the rings of
 * new channels from the sending thread to the receiving one (holding them until the receiver's
 * transport starts), and tells every thread when another one starts, closes or exits.
 * Frames never pass through the hub.
 */
export class ThreadHub {
  private readonly threads = new Map<number, LinkedThread>();
  private nextIndex = 0;
  private closed = false;

  constructor(private readonly logger: Logger = silentLogger) {}

  /**
   * A link for a new thread, at `threadIndex` (default: the lowest index not in use). An index
   * may be linked again once its previous thread is gone, which is how a replacement thread
   * comes back at the same endpoint.
   */
  link(threadIndex?: number): ThreadLink {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', 'thread hub is closed');
    let index = threadIndex;
    if (index === undefined) {
      while (this.threads.has(this.nextIndex)) this.nextIndex++;
      index = this.nextIndex++;
    } else if (!Number.isSafeInteger(index) || index < 0) {
      throw new TransportError('TRANSPORT_FAILED', `thread hub: threadIndex must be a non-negative integer, got ${String(index)}`);
    } else if (this.threads.has(index)) {
      throw new TransportError('TRANSPORT_FAILED', `thread hub: thread index ${index} is in use (${threadEndpoint(index)})`);
    }
    const { port1, port2 } = new MessageChannel();
    const thread: LinkedThread = { endpoint: threadEndpoint(index), port: port1, started: false, held: [] };
    this.threads.set(index, thread);
    const at = index;
    port1.on('message', (message: ToHub) => this.received(at, thread, message));
    // The other end closes when the thread's transport closes, or the thread exits.
    port1.on('close', () => this.gone(at, thread));
    // The hub alone keeps no thread of the process alive; the workers and transports do.
    port1.unref();
    return { threadIndex: index, endpoint: thread.endpoint, port: port2 };
  }

  /**
   * Reports the thread at `threadIndex` gone when `worker` exits, whatever the reason (its
   * link's port closing says the same, but an exit is the surer signal).
   */
  watch(threadIndex: number, worker: Worker): void {
    const thread = this.threads.get(threadIndex);
    if (thread === undefined) throw new TransportError('TRANSPORT_FAILED', `thread hub: no thread is linked at index ${threadIndex}`);
    worker.once('exit', () => this.gone(threadIndex, thread));
  }

  /** Endpoints of the threads whose transports have started. */
  get endpoints(): string[] {
    return [...this.threads.values()].filter((t) => t.started).map((t) => t.endpoint);
  }

  /** Closes every link: the threads' transports see every other thread lost. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const thread of this.threads.values()) thread.port.close();
    this.threads.clear();
  }

  private received(index: number, thread: LinkedThread, message: ToHub): void {
    if (this.threads.get(index) !== thread) return;
    switch (message?.t) {
      case 'hello': {
        thread.started = true;
        this.send(thread, { t: 'welcome', live: this.endpoints.filter((e) => e !== thread.endpoint) });
        this.broadcast(thread, { t: 'up', endpoint: thread.endpoint });
        const held = thread.held;
        thread.held = [];
        for (const offer of held) this.send(thread, offer);
        return;
      }
      case 'bye':
        this.gone(index, thread);
        return;
      case 'ring':
        this.offer(thread, message);
        return;
      default:
        this.logger.warn({ thread: thread.endpoint, message: String((message as { t?: unknown })?.t) }, 'thread hub: unknown message ignored');
    }
  }

  private offer(from: LinkedThread, offer: RingOffer): void {
    let target: LinkedThread | undefined;
    try {
      target = this.threads.get(threadIndexOf(offer.to));
    } catch {
      target = undefined;
    }
    // Nobody will ever read this ring: the sender hears the target is down, and closes the channel.
    if (target === undefined) this.send(from, { t: 'down', endpoint: offer.to });
    else if (target.started) this.send(target, offer);
    else target.held.push(offer);
  }

  private gone(index: number, thread: LinkedThread): void {
    if (this.threads.get(index) !== thread) return;
    this.threads.delete(index);
    if (index < this.nextIndex) this.nextIndex = index;
    thread.port.close();
    this.logger.info({ thread: thread.endpoint }, 'thread hub: thread gone');
    this.broadcast(thread, { t: 'down', endpoint: thread.endpoint });
  }

  private broadcast(except: LinkedThread, message: FromHub): void {
    for (const other of this.threads.values()) if (other !== except && other.started) this.send(other, message);
  }

  private send(thread: LinkedThread, message: FromHub): void {
    thread.port.postMessage(message);
  }
}
