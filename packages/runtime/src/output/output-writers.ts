import {
  CoreOptions,
  getConfig,
  getOperatorConfig,
  type ChannelOptions,
  type ChannelSender,
  type KeySelector,
  type LogicalEdge,
  type LogicalGraph,
  type ExecutionPlan,
  type PartitionFn,
  type PlanChannel,
  type PlanEdge,
  type Transport,
} from '@mobius/interface';
import type { ChannelIds } from '../channel-ids.js';
import { ReplayBuffer } from '../failover/replay-buffer.js';
import { callable } from '../operators/operator.js';
import { ChannelOutput } from './channel-output.js';
import { NamedSender } from './named-sender.js';
import type { TaskOutputs } from './task-outputs.js';
import { BroadcastWriter, CustomWriter, KeyGroupWriter, RoundRobinWriter, SingleChannelWriter, type EdgeWriter } from './writers.js';
import { indexOfTask } from '../task-ids.js';


/** What the writers factory needs of its task. */
export interface OutputWritersInit {
  readonly plan: ExecutionPlan;
  readonly graph: LogicalGraph;
  readonly taskId: string;
  readonly taskIndex: number;
  readonly transport: Transport;
  endpointOf(taskId: string): string;
  readonly ids: ChannelIds;
  readonly outputs: TaskOutputs;
  /** Bytes of each output channel's replay buffer; negative: no replay. */
  readonly replayBytes: number;
  /** See TaskServices.replayRunAhead. */
  readonly replayRunAhead: boolean;
}

/**
 * The network side of a task's chain: one writer per outgoing plan edge, over one channel
 * output per downstream task (in target-index order), and the bookkeeping a snapshot needs:
 * plan ids of the output channels (in `outputs.channels` order) and the round-robin writers.
 */
export class OutputWriters {
  readonly outputIds: string[] = [];
  readonly outputChannels: PlanChannel[] = [];
  /** Round-robin writers by plan edge id (their position is checkpointed). */
  readonly roundRobin = new Map<string, RoundRobinWriter>();
  /** The writer of each plan edge out of this task. */
  readonly byEdge = new Map<string, EdgeWriter>();

  constructor(private readonly init: OutputWritersInit) {}

  private nodeConfig(opId: string) {
    return this.init.graph.nodes.find((n) => n.id === opId)?.config ?? {};
  }

  credits(targetOperator: string): number {
    return getOperatorConfig(this.nodeConfig(targetOperator), this.init.plan.config, CoreOptions.CHANNEL_CREDITS);
  }

  /** Options of an output channel to `targetOperator` (credits; whether an in-process channel encodes anyway). */
  channelOptions(targetOperator: string): ChannelOptions {
    return { credits: this.credits(targetOperator), serialize: getConfig(this.init.plan.config, CoreOptions.SERIALIZE_LOCAL_CHANNELS) };
  }

  /** Opens the sender of plan channel `c` (transport id `id`) at `endpoint`; a refused record names the edge's source operator. */
  openSender(id: string, c: PlanChannel, endpoint: string): ChannelSender {
    const edge = this.init.plan.edges.find((e) => e.id === c.edgeId)!;
    const source = this.init.graph.nodes.find((n) => n.id === edge.sourceOperator);
    const sender = this.init.transport.openSender(id, endpoint, this.channelOptions(edge.targetOperator));
    return new NamedSender(sender, edge.sourceOperator, source?.name ?? edge.sourceOperator, this.init.taskIndex);
  }

  /** Opens the channel output of plan channel `c` (registered with the task's outputs), to `endpoint` if given. */
  openChannel(c: PlanChannel, edge: PlanEdge, endpoint?: string): ChannelOutput {
    const { ids, outputs, replayBytes } = this.init;
    const batchSize = getOperatorConfig(this.nodeConfig(edge.sourceOperator), this.init.plan.config, CoreOptions.BATCH_SIZE);
    const id = ids.idOf(c);
    this.outputIds.push(c.id);
    this.outputChannels.push(c);
    return outputs.add(
      new ChannelOutput(
        id,
        this.openSender(id, c, endpoint ?? this.init.endpointOf(c.targetTask)),
        batchSize,
        outputs,
        replayBytes < 0 ? null : new ReplayBuffer(replayBytes),
        this.init.replayRunAhead,
      ),
    );
  }

  /** The writer of `edge` over `channels` (default: the plan's channels of the edge from this task). */
  create(edge: PlanEdge, channels?: readonly ChannelOutput[]): EdgeWriter {
    const { plan, taskId } = this.init;
    const outs =
      channels ??
      plan.channels
        .filter((c) => c.edgeId === edge.id && c.sourceTask === taskId)
        .sort((a, b) => indexOfTask(a.targetTask) - indexOfTask(b.targetTask))
        .map((c) => this.openChannel(c, edge));
    const writer = this.writerFor(edge, outs);
    this.byEdge.set(edge.id, writer);
    return writer;
  }

  private writerFor(edge: PlanEdge, channels: readonly ChannelOutput[]): EdgeWriter {
    const partition = this.logicalEdge(edge).partition;
    if (edge.partition === 'custom') {
      const target = this.init.graph.nodes.find((n) => n.id === edge.targetOperator)!;
      return new CustomWriter(channels, callable<PartitionFn<unknown>>(partition.partitioner, 'partition'), `operator "${target.name}" (${target.id})`);
    }
    if (channels.length === 1) return new SingleChannelWriter(channels[0]);
    // Every channel of the edge removed at a barrier (see ChannelReconfiguration): records go nowhere.
    if (channels.length === 0) return new BroadcastWriter(channels);
    switch (edge.partition) {
      case 'key':
        return new KeyGroupWriter(channels, partition.keySelector as KeySelector<unknown>, this.init.plan.maxParallelism);
      case 'broadcast':
        return new BroadcastWriter(channels);
      default: {
        const writer = new RoundRobinWriter(channels, this.init.taskIndex);
        this.roundRobin.set(edge.id, writer);
        return writer;
      }
    }
  }

  /** The downstream operator of plan edge `edgeId`. */
  targetOperatorOf(edgeId: string): string | undefined {
    return this.init.plan.edges.find((e) => e.id === edgeId)?.targetOperator;
  }

  logicalEdge(edge: PlanEdge): LogicalEdge {
    return this.init.graph.edges.find((e) => e.source === edge.sourceOperator && e.target === edge.targetOperator && e.sideOutput === edge.sideOutput)!;
  }
}
