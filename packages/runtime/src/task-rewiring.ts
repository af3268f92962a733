import type { Determinant, Logger, PlanChannel, Transport } from '@mobius/interface';
import type { ChannelIds } from './channel-ids.js';
import type { InputGate } from './input-gate.js';
import type { OutputWriters } from './output/output-writers.js';
import type { TaskOutputs } from './output/task-outputs.js';

/** What rewiring needs of its task. */
export interface TaskRewiringInit {
  readonly taskId: string;
  readonly transport: Transport;
  readonly ids: ChannelIds;
  readonly gate: InputGate;
  /** The input channels in gate order. */
  readonly inputChannels: readonly PlanChannel[];
  readonly outputs: TaskOutputs;
  readonly writers: OutputWriters;
  readonly logger: Logger;
  /** Credits of this task's input channels. */
  readonly inputCredits: number;
  /** True while the task still reads its inputs (else re-opened inputs are drained and dropped). */
  reading(): boolean;
}

/**
 * The recovery side of a task (single-task failover): re-opens channels to and from restarted
 * tasks, hands out the determinants it holds of an upstream task, and names the outputs that
 * cannot replay.
 */
export class TaskRewiring {
  /** Receivers opened for a task that already ended, draining a restarted upstream's replay. */
  private readonly drains: { close(): void }[] = [];

  constructor(private readonly init: TaskRewiringInit) {}

  /**
   * Tasks of `restarted` run a new attempt at a new endpoint. Output channels to them re-open
   * there and replay what they sent since the last completed checkpoint; input channels from
   * them re-open under the new attempt (the restarted task regenerates its output with the same
   * sequence numbers, and what was read is dropped). Returns the number of frames replayed.
   */
  rewire(restarted: Readonly<Record<string, { readonly attempt: number; readonly endpoint: string }>>, endpointOf: (taskId: string) => string): number {
    const { ids, taskId, transport, writers, outputs, gate } = this.init;
    for (const [t, r] of Object.entries(restarted)) if (t !== taskId) ids.attempts[t] = r.attempt;
    let replayed = 0;
    writers.outputChannels.forEach((c, i) => {
      if (restarted[c.targetTask] === undefined || c.targetTask === taskId) return;
      const id = ids.idOf(c);
      replayed += outputs.channels[i].rewire(writers.openSender(id, c, endpointOf(c.targetTask)), id);
    });
    this.init.inputChannels.forEach((c, i) => {
      if (restarted[c.sourceTask] === undefined || c.sourceTask === taskId) return;
      const receiver = transport.openReceiver(ids.idOf(c), { credits: this.init.inputCredits });
      if (this.init.reading()) {
        gate.replaceReceiver(i, receiver);
        return;
      }
      // An ended task needs nothing more: take what arrives (so the sender is not stuck) and drop it.
      receiver.onReadable(() => {
        while (receiver.poll() !== undefined);
      });
      this.drains.push(receiver);
    });
    this.init.logger.info({ restarted: Object.keys(restarted), framesReplayed: replayed }, 'channels re-opened to restarted tasks');
    return replayed;
  }

  /**
   * The determinant log this task holds of upstream task `taskId` (entries since the last
   * completed checkpoint), for its recovery: from now on, until rewire() re-opens them, the
   * channels from `taskId` are not read (a frame of the dead attempt read after this would
   * hold records whose determinants the new attempt does not get).
   */
  determinantsOf(taskId: string): readonly Determinant[] {
    const indexes: number[] = [];
    this.init.inputChannels.forEach((c, i) => {
      if (c.sourceTask === taskId) indexes.push(i);
    });
    this.init.gate.hold(indexes);
    return this.init.gate.determinantsOf(indexes);
  }

  /** Plan ids of this task's output channels that cannot replay (no buffer, or it dropped frames). */
  unreplayableOutputs(): string[] {
    const out: string[] = [];
    this.init.writers.outputChannels.forEach((c, i) => {
      const replay = this.init.outputs.channels[i].replay;
      if (replay === null || !replay.replayable) out.push(c.id);
    });
    return out;
  }

  closeDrains(): void {
    for (const d of this.drains.splice(0)) d.close();
  }
}
