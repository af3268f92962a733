import { TransportError, type ControlChannel } from '@mobius/interface';
import { Router } from 'zeromq';
import { SendQueue } from './send-queue.js';
import type { ZmqControlServerOptions } from './control-options.js';
import { ControlEndpoint, untilDeadline } from './control-endpoint.js';

/**
 * The coordinator's side of the control channel: a ROUTER bound at `endpoint`. Each client is
 * addressed by its id (its routing id).
 */
export class ZmqControlServer extends ControlEndpoint implements ControlChannel {
  private readonly bindAddress: string;
  private readonly curve: ZmqControlServerOptions['curve'];
  private router: Router | undefined;
  private bound: string | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly clients = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly probes = new Set<NodeJS.Timeout>();
  private nonce = 0;

  constructor(options: ZmqControlServerOptions = {}) {
    super(options, 'control-server');
    this.bindAddress = options.endpoint ?? 'tcp://127.0.0.1:0';
    this.curve = options.curve;
  }

  get endpoint(): string {
    return this.bound ?? this.bindAddress;
  }

  /** Ids of the clients currently connected. */
  peers(): string[] {
    return [...this.clients.keys()];
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('TRANSPORT_CLOSED', 'control server is closed'));
    this.starting ??= this.bind();
    return this.starting;
  }

  private async bind(): Promise<void> {
    const curve = this.curve;
    const router = new Router({
      mandatory: true,
      sendTimeout: 0,
      sendHighWaterMark: 0,
      handover: true, // a restarted worker with the same id takes over
      maxMessageSize: this.maxMessageBytes,
      linger: this.closeTimeoutMs,
      ...(curve === undefined ? {} : { curveServer: true, curveSecretKey: curve.secretKey, curvePublicKey: curve.publicKey }),
    });
    const deadline = Date.now() + 2000;
    for (;;) {
      try {
        await router.bind(this.bindAddress);
        break;
      } catch (e) {
        if ((e as { code?: string }).code === 'EADDRINUSE' && Date.now() < deadline && !/:(0|\*)$/.test(this.bindAddress)) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        router.close();
        this.starting = undefined;
        throw new TransportError('TRANSPORT_FAILED', `cannot bind control server at ${this.bindAddress}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    this.router = router;
    this.bound = (router.lastEndpoint ?? this.bindAddress).replace('://0.0.0.0:', '://127.0.0.1:');
    this.queue = new SendQueue(router, this.logger, 'control-router');
    // A connection went away: find out whose by probing every known client (a send to a gone
    // routing id fails at once with EHOSTUNREACH, because the ROUTER is mandatory).
    router.events.on('disconnect', () => this.probeSoon());
    router.events.on('handshake:error:auth', (e) => this.peerLog.report('warn', e.address, 'control client failed CURVE authentication', { event: e.type }));
    this.timer = setInterval(() => this.tick(), Math.max(20, Math.floor(this.peerTimeoutMs / 4)));
    this.timer.unref();
    void this.loop(router);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    this.closed = true;
    this.peerLog.flush();
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const t of this.probes) clearTimeout(t);
    this.probes.clear();
    this.rejectPending(
      () => true,
      () => new TransportError('TRANSPORT_CLOSED', 'control server closed'),
    );
    const deadline = Date.now() + this.closeTimeoutMs;
    if (this.queue !== undefined) await untilDeadline(this.queue.idle(), deadline);
    this.queue?.stop();
    if (this.router !== undefined) {
      this.router.linger = Math.min(200, Math.max(0, deadline - Date.now()));
      this.router.close();
    }
    this.clients.clear();
  }

  protected sendBody(peer: string, body: Buffer, onFail?: (err: unknown) => void): void {
    if (this.queue === undefined) {
      onFail?.(new TransportError('TRANSPORT_FAILED', 'control server is not started: call start() first'));
      return;
    }
    this.queue.push([Buffer.from(peer, 'utf8'), body], (err) => {
      if ((err as { code?: string }).code === 'EHOSTUNREACH') this.gone(peer);
      if (onFail !== undefined) onFail(err);
      else this.logger.debug({ peer, err }, 'control message not delivered');
    });
  }

  protected describePeer(peer: string): string {
    return `client ${peer}`;
  }

  protected seen(peer: string, _kind: number): void {
    const known = this.clients.has(peer);
    this.clients.set(peer, Date.now());
    if (!known) this.emitPeer('connected', peer);
  }

  private gone(peer: string): void {
    if (!this.clients.delete(peer)) return;
    this.rejectPending(
      (p) => p.peer === peer,
      () => new TransportError('TRANSPORT_PEER_LOST', `control client ${peer} disconnected`),
    );
    this.emitPeer('disconnected', peer);
  }

  private probeAll(): void {
    if (this.closed) return;
    for (const peer of this.clients.keys()) this.ping(peer, ++this.nonce);
  }

  /**
   * Probes now and twice more shortly after: the monitor event may come before ZeroMQ has
   * removed the routing id of the connection that went away.
   */
  private probeSoon(): void {
    this.probeAll();
    for (const ms of [20, 100, 300]) {
      const t = setTimeout(() => {
        this.probes.delete(t);
        this.probeAll();
      }, ms);
      t.unref();
      this.probes.add(t);
    }
  }

  private tick(): void {
    const now = Date.now();
    for (const [peer, last] of this.clients) if (now - last > this.peerTimeoutMs) this.gone(peer);
  }

  private async loop(router: Router): Promise<void> {
    for (;;) {
      let parts: Buffer[];
      try {
        parts = (await router.receive()) as Buffer[];
      } catch (e) {
        if (router.closed || this.closed) return;
        this.logger.error({ err: e }, 'control receive failed');
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const peer = parts[0]?.toString('utf8') ?? '';
      this.receive(peer, parts, 1);
    }
  }
}
