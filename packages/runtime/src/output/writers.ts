import { MobiusError, type Collector, type KeySelector, type PartitionFn } from '@mobius/interface';
import { keyGroupOf, normalizeKey, taskIndexForKeyGroup } from '@mobius/interface';
import type { ChannelOutput } from './channel-output.js';

/**
 * Writers route each record of one network edge to its channel(s). One class per
 * partitioning keeps every `collect` call site monomorphic. Watermarks go to every channel.
 */

/** What every writer does besides routing records. */
export abstract class EdgeWriter implements Collector<unknown> {
  constructor(readonly channels: readonly ChannelOutput[]) {}
  abstract collect(record: unknown): void;
  emitWatermark(watermark: number): void {
    for (const ch of this.channels) ch.watermark(watermark);
  }
  /** The stream is idle: every channel says so (downstream leaves it out of its watermark until its next one). */
  markIdle(): void {
    for (const ch of this.channels) ch.idle();
  }
}


/** One target: forward, or any partitioning with a single downstream task (no hashing). */
export class SingleChannelWriter extends EdgeWriter {
  private readonly channel: ChannelOutput;
  constructor(channel: ChannelOutput) {
    super([channel]);
    this.channel = channel;
  }
  collect(record: unknown): void {
    this.channel.push(record);
  }
}

/** Sends records to its channels in turn; `next` is checkpointed so a restarted task routes as before. */
export class RoundRobinWriter extends EdgeWriter {
  next: number;
  constructor(channels: readonly ChannelOutput[], start: number) {
    super(channels);
    this.next = start % channels.length;
  }
  collect(record: unknown): void {
    this.channels[this.next].push(record);
    if (++this.next === this.channels.length) this.next = 0;
  }
}

export class KeyGroupWriter extends EdgeWriter {
  /** key group → target task index. */
  private readonly targets: Int32Array;
  constructor(
    channels: readonly ChannelOutput[],
    private readonly keySelector: KeySelector<unknown>,
    private readonly maxParallelism: number,
  ) {
    super(channels);
    this.targets = new Int32Array(maxParallelism);
    for (let kg = 0; kg < maxParallelism; kg++) this.targets[kg] = taskIndexForKeyGroup(kg, channels.length, maxParallelism);
  }
  collect(record: unknown): void {
    const kg = keyGroupOf(normalizeKey(this.keySelector(record)), this.maxParallelism);
    this.channels[this.targets[kg]].push(record);
  }
}

export class BroadcastWriter extends EdgeWriter {
  collect(record: unknown): void {
    const chs = this.channels;
    for (let i = 0; i < chs.length; i++) chs[i].push(record);
  }
}

/** partitionBy(fn): the function returns a target index or an array of them. */
export class CustomWriter extends EdgeWriter {
  constructor(
    channels: readonly ChannelOutput[],
    private readonly fn: PartitionFn<unknown>,
    private readonly targetName: string,
  ) {
    super(channels);
  }
  collect(record: unknown): void {
    const n = this.channels.length;
    const target = this.fn(record, n);
    if (typeof target === 'number') {
      this.channel(target).push(record);
    } else if (Array.isArray(target)) {
      for (let i = 0; i < target.length; i++) this.channel(target[i]).push(record);
    } else {
      throw new MobiusError('PARTITION_INVALID', `the partitioner into ${this.targetName} returned ${typeof target}; expected an index or an array of indices`);
    }
  }
  private channel(index: number): ChannelOutput {
    const ch = Number.isInteger(index) ? this.channels[index] : undefined;
    if (ch === undefined) {
      throw new MobiusError('PARTITION_INVALID', `the partitioner into ${this.targetName} returned ${index}, outside 0..${this.channels.length - 1}`);
    }
    return ch;
  }
}
