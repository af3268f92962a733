import type { Barrier, ExecutionPlan, Logger, PlanChannel, Transport } from '@mobius/interface';
import type { ChannelIds } from './channel-ids.js';
import type { InputGate } from './input-gate.js';
import type { OperatorChain } from './operator-chain.js';
import type { ChannelOutput } from './output/channel-output.js';
import type { OutputWriters } from './output/output-writers.js';
import type { TaskOutputs } from './output/task-outputs.js';
import { indexOfTask } from './task-ids.js';


/**
 * Channels a running task adds or removes at a checkpoint barrier (the base of live rescaling).
 * Channels are plan channels of edges this task already has; removals name plan channel ids.
 */
export interface ChannelChanges {
  /** Input channels read from the barrier on (their upstream starts sending after it). */
  readonly addInputs?: readonly PlanChannel[];
  /** Input channels not read after the barrier (their upstream stops at it). */
  readonly removeInputs?: readonly string[];
  /** Output channels written from the barrier on; the writer of their edge takes the new channel set. */
  readonly addOutputs?: readonly PlanChannel[];
  /** Output channels ended at the barrier (they get their end marker right behind it). */
  readonly removeOutputs?: readonly string[];
  /** taskId → attempt of tasks at the other end of added channels (default 0). */
  readonly attempts?: Readonly<Record<string, number>>;
  /**
   * taskId → data endpoint of tasks at the other end of added outputs (default: the task's own
   * lookup). A rescale's new tasks may run where the task's deployment never saw them.
   */
  readonly endpoints?: Readonly<Record<string, string>>;
}

/** What the reconfiguration changes of its task. */
export interface ChannelReconfigurationInit {
  readonly plan: ExecutionPlan;
  readonly transport: Transport;
  readonly ids: ChannelIds;
  readonly gate: InputGate;
  readonly inputChannels: PlanChannel[];
  readonly inputCredits: number;
  readonly outputs: TaskOutputs;
  readonly writers: OutputWriters;
  readonly chain: OperatorChain;
  readonly logger: Logger;
}

/**
 * Applies channel changes at the barrier they were scheduled for, right after the task's
 * snapshot and the barrier went out: everything before the barrier used the old channel set,
 * everything after it the new one, so no record is lost or read twice.
 */
export class ChannelReconfiguration {
  private readonly scheduled = new Map<number, ChannelChanges[]>();
  /** Removed outputs: ended, closed when the task ends (the end marker must get out first). */
  private readonly retired: ChannelOutput[] = [];
  /** Indexes of the input channels removed so far. */
  private readonly removedInputs = new Set<number>();

  constructor(private readonly init: ChannelReconfigurationInit) {}

  schedule(checkpointId: number, changes: ChannelChanges): void {
    const list = this.scheduled.get(checkpointId) ?? [];
    list.push(changes);
    this.scheduled.set(checkpointId, list);
  }

  /** Applies what was scheduled for `barrier` (and for older checkpoints whose barrier never came). */
  applyAt(barrier: Barrier): void {
    if (this.scheduled.size === 0) return;
    for (const [id, list] of [...this.scheduled]) {
      if (id > barrier.checkpointId) continue;
      this.scheduled.delete(id);
      for (const changes of list) this.apply(changes);
      this.init.logger.info({ checkpointId: barrier.checkpointId, changes: list.length }, 'channels changed at a barrier');
    }
  }

  private apply(changes: ChannelChanges): void {
    const { ids, gate, inputChannels, transport, outputs, writers, plan } = this.init;
    for (const [t, a] of Object.entries(changes.attempts ?? {})) ids.attempts[t] = a;
    for (const id of changes.removeInputs ?? []) {
      // Removed inputs keep their index (the determinant log names inputs by index): a plan
      // channel id removed by an earlier rescale may be there again, re-added with new attempts.
      const i = inputChannels.findIndex((c, index) => c.id === id && !this.removedInputs.has(index));
      if (i < 0) continue;
      this.removedInputs.add(i);
      gate.removeChannel(i);
    }
    for (const c of changes.addInputs ?? []) {
      ids.attempts[c.sourceTask] ??= 0;
      inputChannels.push(c);
      gate.addChannel(transport.openReceiver(ids.idOf(c), { credits: this.init.inputCredits }));
    }
    const edges = new Set<string>();
    for (const id of changes.removeOutputs ?? []) {
      const i = writers.outputChannels.findIndex((c) => c.id === id);
      if (i < 0) continue;
      edges.add(writers.outputChannels[i].edgeId);
      const ch = outputs.channels[i];
      ch.end();
      this.retired.push(ch);
      outputs.channels.splice(i, 1);
      writers.outputChannels.splice(i, 1);
      writers.outputIds.splice(i, 1);
    }
    for (const c of changes.addOutputs ?? []) {
      ids.attempts[c.targetTask] ??= 0;
      const edge = plan.edges.find((e) => e.id === c.edgeId)!;
      writers.openChannel(c, edge, changes.endpoints?.[c.targetTask]);
      edges.add(c.edgeId);
    }
    // The writer of each changed edge is rebuilt over its new channel set, and its operator re-wired.
    for (const edgeId of edges) {
      const edge = plan.edges.find((e) => e.id === edgeId)!;
      const chans: { ch: ChannelOutput; target: number }[] = [];
      writers.outputChannels.forEach((c, i) => {
        if (c.edgeId === edgeId) chans.push({ ch: outputs.channels[i], target: indexOfTask(c.targetTask) });
      });
      chans.sort((a, b) => a.target - b.target);
      writers.create(
        edge,
        chans.map((x) => x.ch),
      );
      this.init.chain.wire(edge.sourceOperator);
    }
  }

  /** Closes the channels removed earlier (at the end of the task). */
  closeRetired(): void {
    for (const ch of this.retired.splice(0)) ch.close();
  }
}
