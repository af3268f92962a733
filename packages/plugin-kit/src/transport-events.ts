import type { Logger, TransportEvent } from '@mobius/interface';

/**
 * The `on(event, listener)` side of a transport. Every listener of an event runs, in the order
 * added. With a logger, a listener that throws is logged and the others still run, so a
 * faulty listener cannot break a socket handler; without one, its error reaches the caller.
 */
export class TransportEvents {
  private readonly listeners = new Map<TransportEvent, ((peer: string) => void)[]>();

  constructor(private readonly logger?: Logger) {}

  on(event: TransportEvent, listener: (peer: string) => void): void {
    const list = this.listeners.get(event);
    if (list === undefined) this.listeners.set(event, [listener]);
    else list.push(listener);
  }

  emit(event: TransportEvent, peer: string): void {
    const list = this.listeners.get(event);
    if (list === undefined) return;
    for (const listener of list) {
      if (this.logger === undefined) {
        listener(peer);
        continue;
      }
      try {
        listener(peer);
      } catch (e) {
        this.logger.error({ err: e, event, peer }, 'transport event listener threw');
      }
    }
  }
}
