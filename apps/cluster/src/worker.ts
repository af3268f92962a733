import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlMessage, Logger, Transport } from '@mobius/interface';
import { ZmqControlClient } from '@mobius/transport-zeromq';
import { createDataTransport } from './data-transports.js';
import { LocalFirstTransport } from '@mobius/transport-memory';
import { HeartbeatSender } from './heartbeat-sender.js';
import { settledWithin } from './settled-within.js';
import { TaskThreads } from './task-threads.js';
import { WorkerJobs } from './worker-jobs.js';

export interface WorkerOptions {
  /** The coordinator's control endpoint, e.g. tcp://127.0.0.1:6123. */
  readonly coordinator: string;
  readonly slots?: number;
  readonly token?: string;
  /** Address the data transport binds to (other workers connect to it). Default 127.0.0.1. */
  readonly host?: string;
  /** A module exporting `createTransport({ host, logger })`; default: the ZeroMQ transport. */
  readonly transport?: string;
  readonly logger: Logger;
  /** CURVE keys for the data channels (one key pair shared by the cluster's workers). */
  readonly curve?: { readonly publicKey: string; readonly secretKey: string };
  /** How long to keep trying to register while the coordinator is not up. Default 30 s. */
  readonly registerTimeoutMs?: number;
  /**
   * Worker threads the tasks run on, each with a data transport of its own (`--task-threads`);
   * 0 runs them on the main thread. Default: one per slot.
   */
  readonly taskThreads?: number;
}

/** Exit code of a worker whose task thread died (its tasks are recovered elsewhere). */
const TASK_THREAD_LOST_EXIT = 70;

/** Longest a cancel request waits for its tasks to stop (the coordinator gives up sooner, after its heartbeat timeout). */
const CANCEL_WAIT_MS = 10_000;

/** Longest a thread's collect batch waits for the coordinator (as a collect forwarder on the main thread). */
const COLLECT_TIMEOUT_MS = 30_000;

const DEFAULT_SLOTS = 4;

/** A worker process: registers its slots, runs the tasks it is given, reports their states. */
export class Worker {
  readonly id = `worker-${process.pid}-${randomUUID().slice(0, 6)}`;
  private transport: Transport | undefined;
  private control: ZmqControlClient | undefined;
  private threads: TaskThreads | undefined;
  /** Publishes the task list to the heartbeat thread, which sends the heartbeats. */
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly heartbeats: HeartbeatSender;
  private readonly dir = mkdtempSync(join(tmpdir(), 'mobius-worker-'));
  /** The jobs whose tasks run here. */
  private readonly jobs: WorkerJobs;
  private readonly logger: Logger;
  private stopped = false;

  constructor(private readonly options: WorkerOptions) {
    this.logger = options.logger.child({ workerId: this.id });
    this.heartbeats = new HeartbeatSender(this.logger);
    this.jobs = new WorkerJobs({
      logger: this.logger,
      dir: this.dir,
      heartbeats: this.heartbeats,
      transport: () => this.transport!,
      threads: () => this.threads,
      push: (message) => this.control?.push('coordinator', message),
      request: (message, timeoutMs) => this.control!.request('coordinator', message, timeoutMs),
    });
  }

  get endpoint(): string {
    return this.transport!.endpoint;
  }

  async start(): Promise<void> {
    // Loading the heartbeat thread takes a while: it starts now, beside the rest.
    const heartbeatThread = this.heartbeats.start(this.options.coordinator, this.id);
    heartbeatThread.catch(() => undefined);
    this.transport = new LocalFirstTransport(await this.createTransport(), this.id);
    await this.transport.start();
    const taskThreads = this.options.taskThreads ?? this.options.slots ?? DEFAULT_SLOTS;
    if (taskThreads > 0) await this.startThreads(taskThreads);
    this.control = new ZmqControlClient({ serverEndpoint: this.options.coordinator, id: this.id, logger: this.logger });
    this.control.onRequest((_from, message) => this.handleRequest(message));
    this.control.onPush((_from, message) => this.handlePush(message));
    await this.control.start();
    const registered = await this.register();
    // Heartbeats come from a thread of their own, which task code cannot hold up; this thread
    // publishes the task list to it at its own pace (and sends heartbeats itself until the
    // thread runs).
    this.heartbeat = setInterval(() => void this.publishTasks(), registered.heartbeatMs);
    void this.publishTasks();
    void heartbeatThread.then(
      () => {
        if (this.stopped) return;
        this.heartbeats.publish(this.jobs.runningMetrics());
        this.heartbeats.begin(registered.heartbeatMs);
      },
      (e: unknown) => this.logger.error({ err: e }, 'the heartbeat thread did not start: heartbeats come from the main thread, which task code can hold up'),
    );
    this.logger.info({ endpoint: this.endpoint, slots: this.options.slots ?? DEFAULT_SLOTS, taskThreads: this.threads?.count ?? 0, coordinator: this.options.coordinator }, 'worker registered');
  }

  /** Starts the task threads, each binding a data transport of its own. */
  private async startThreads(count: number): Promise<void> {
    const threads = new TaskThreads({
      count,
      host: this.options.host ?? '127.0.0.1',
      transport: this.options.transport,
      curve: this.options.curve,
      progress: this.heartbeats.progressCells,
      logger: this.logger,
      collect: (message) => this.control!.request('coordinator', message, COLLECT_TIMEOUT_MS),
      onLost: (index, exitCode) => {
        // The thread took its tasks, its transport and its place in the job master's endpoints
        // with it: the worker ends, and the coordinator recovers its tasks on live workers.
        this.logger.error({ taskThread: index, exitCode }, 'a task thread exited: the worker exits so that its tasks are recovered');
        process.exit(TASK_THREAD_LOST_EXIT);
      },
    });
    await threads.start();
    this.threads = threads;
  }

  private async createTransport(): Promise<Transport> {
    return createDataTransport(this.options.transport, { host: this.options.host ?? '127.0.0.1', logger: this.logger, curve: this.options.curve });
  }

  private async register(): Promise<{ heartbeatMs: number }> {
    const deadline = Date.now() + (this.options.registerTimeoutMs ?? 30_000);
    const tasks = this.jobs.registered();
    const slotEndpoints = this.threads?.endpoints;
    const message: ControlMessage = { type: 'register', workerId: this.id, endpoint: this.endpoint, slots: this.options.slots ?? DEFAULT_SLOTS, pid: process.pid, token: this.options.token, tasks, slotEndpoints };
    for (;;) {
      try {
        const reply = await this.control!.request('coordinator', message, 2000);
        if (reply.type === 'registered') return reply;
        if (reply.type === 'error') throw new Error(`the coordinator refused this worker: ${reply.message}`);
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('the coordinator refused')) throw e;
        if (Date.now() > deadline) throw new Error(`could not register with the coordinator at ${this.options.coordinator}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Resolves once the next heartbeat carries the current task list (the thread took it, or this thread sent it). */
  private publishTasks(): Promise<void> {
    const tasks = this.jobs.runningMetrics();
    if (this.heartbeats.running) return this.heartbeats.publish(tasks);
    this.control!.push('coordinator', { type: 'heartbeat', workerId: this.id, time: Date.now(), tasks });
    return Promise.resolve();
  }

  private async handleRequest(message: ControlMessage): Promise<ControlMessage> {
    if (message.type === 'get-determinants') {
      return { type: 'determinants', entries: await this.jobs.determinantsOf(message.jobId, message.taskId) };
    }
    if (message.type === 'ping') return { type: 'ok' };
    if (message.type === 'get-replay-status') {
      return { type: 'replay-status', unreplayable: await this.jobs.unreplayable(message.jobId) };
    }
    if (message.type === 'cancel') {
      // Answered once the heartbeats no longer list the tasks and the tasks stopped (or a bound
      // passed): the coordinator may then end the job, and nothing of it runs here any more.
      const stopping = this.jobs.cancel(message);
      await this.publishTasks();
      await settledWithin(stopping, CANCEL_WAIT_MS);
      return { type: 'ok' };
    }
    if (message.type === 'prepare-rescale') {
      try {
        await this.jobs.prepareRescale(message.jobId, message.preparation);
        return { type: 'ok' };
      } catch (e) {
        this.logger.error({ jobId: message.jobId, err: e }, 'preparing a rescale failed');
        return { type: 'error', code: (e as { code?: string }).code ?? 'RESCALE_FAILED', message: e instanceof Error ? e.message : String(e) };
      }
    }
    if (message.type !== 'deploy') return { type: 'error', code: 'UNKNOWN_REQUEST', message: `unexpected request '${message.type}'` };
    try {
      await this.jobs.deploy(message);
      return { type: 'ok' };
    } catch (e) {
      this.logger.error({ jobId: message.jobId, err: e }, 'deployment refused');
      return { type: 'error', code: (e as { code?: string }).code ?? 'DEPLOY_FAILED', message: e instanceof Error ? e.message : String(e) };
    }
  }

  private reregistering = false;

  private handlePush(message: ControlMessage): void {
    if (message.type === 'reregister') {
      if (this.reregistering || this.stopped) return;
      this.reregistering = true;
      this.logger.warn({ jobs: this.jobs.size }, 'the coordinator does not know this worker (it restarted?): registering again with the running tasks');
      void this.register()
        .catch((e: unknown) => this.logger.error({ err: e }, 'registering again failed'))
        .finally(() => (this.reregistering = false));
      return;
    }
    if (this.jobs.handlePush(message)) return;
    if (message.type === 'cancel') {
      this.jobs.cancel(message);
      if (this.heartbeat !== undefined) void this.publishTasks();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.jobs.stop();
    await this.threads?.close();
    await this.heartbeats.stop();
    await this.control?.close();
    await this.transport?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
