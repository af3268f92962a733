import { MobiusError } from '@mobius/interface';
import { errorFromInfo, errorInfo } from './error-info.js';
import type { ErrorInfo } from './task-thread-protocol.js';

/** The side of a MessagePort (a Worker, `parentPort`) this needs. */
export interface MessagePortLike {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

type Reply = { readonly t: 'reply'; readonly id: number; readonly ok: true; readonly value?: unknown } | { readonly t: 'reply'; readonly id: number; readonly ok: false; readonly error: ErrorInfo };

/**
 * Requests and replies over a port between two threads: a request carries an `id`, the other
 * side answers with `{ t: 'reply', id }`. Every other message goes to `onMessage`. Requests in
 * flight are bounded by their callers, each of which awaits its answer; `fail` rejects them all
 * (the other thread is gone).
 */
export class ThreadRpc<In extends { readonly t: string }> {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(e: unknown): void }>();
  private closed: Error | undefined;

  constructor(
    private readonly port: MessagePortLike,
    onMessage: (message: In) => void,
  ) {
    port.on('message', (message) => {
      const m = message as In | Reply;
      if (m.t !== 'reply') return onMessage(m as In);
      const reply = m as Reply;
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(errorFromInfo(reply.error));
    });
  }

  post(message: object): void {
    if (this.closed === undefined) this.port.postMessage(message);
  }

  /** Sends `message` with a fresh `id` (and `transfer`'s buffers moved, not copied) and resolves with the other side's answer. */
  request<T>(message: object, transfer?: readonly ArrayBuffer[]): Promise<T> {
    if (this.closed !== undefined) return Promise.reject(this.closed);
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (transfer === undefined || transfer.length === 0) this.port.postMessage({ ...message, id });
      else this.port.postMessage({ ...message, id }, transfer);
    });
  }

  /** Answers request `id` with what `work` resolves to (or its error). */
  answer(id: number, work: () => unknown): void {
    void Promise.resolve()
      .then(work)
      .then(
        (value) => this.post({ t: 'reply', id, ok: true, value }),
        (e: unknown) => this.post({ t: 'reply', id, ok: false, error: errorInfo(e) }),
      );
  }

  /** The other side is gone: every request in flight rejects with `reason`, and later ones at once. */
  fail(reason: string): void {
    this.closed = new MobiusError('TASK_THREAD_LOST', reason);
    for (const w of this.pending.values()) w.reject(this.closed);
    this.pending.clear();
  }
}
