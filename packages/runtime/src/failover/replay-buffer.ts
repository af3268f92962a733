import { makeFrame, type Frame } from '@mobius/interface';

/** Rough size of a value in bytes (what it would take encoded), without walking all of it. */
export function estimateBytes(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'number':
      return 9;
    case 'string':
      return value.length + 5;
    case 'boolean':
    case 'undefined':
      return 1;
    case 'bigint':
      return 16;
    case 'object': {
      if (value === null) return 1;
      if (depth > 3) return 32;
      if (ArrayBuffer.isView(value)) return value.byteLength + 5;
      if (Array.isArray(value)) {
        const n = value.length;
        const sampled = Math.min(n, 8);
        let sum = 0;
        for (let i = 0; i < sampled; i++) sum += estimateBytes(value[i], depth + 1);
        return 5 + (sampled === 0 ? 0 : (sum / sampled) * n);
      }
      let sum = 5;
      let keys = 0;
      for (const k in value as Record<string, unknown>) {
        sum += k.length + 2 + estimateBytes((value as Record<string, unknown>)[k], depth + 1);
        if (++keys >= 16) break;
      }
      return sum;
    }
    default:
      return 16;
  }
}

/** Estimated bytes of a frame: its records sized from the first one. */
export function estimateFrameBytes(frame: Frame): number {
  const records = frame.records;
  if (records === null || records.length === 0) return 64;
  return 64 + (estimateBytes(records[0]) + (frame.timestamps === null ? 0 : 8)) * records.length;
}

/**
 * The frames one output channel sent since the last completed checkpoint, for replay to a
 * restarted downstream task. Bounded by `maxBytes` (estimated): when full, the oldest frames
 * are dropped and the channel is not replayable until a checkpoint completes whose barrier
 * came after every dropped frame.
 */
export class ReplayBuffer {
  private frames: Frame[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;
  /** Sequence number after the last dropped record (-1: nothing dropped). */
  private droppedThrough = -1;
  /** Checkpoint id → sequence number of its barrier on this channel. */
  private readonly barriers = new Map<number, number>();
  dropped = 0;

  constructor(readonly maxBytes: number) {}

  get replayable(): boolean {
    return this.droppedThrough < 0;
  }

  get size(): number {
    return this.frames.length - this.head;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Keeps `frame`; returns its estimated size. */
  add(frame: Frame): number {
    if (frame.kind === 'barrier') this.barriers.set(frame.barrier!.checkpointId, frame.seq);
    const size = estimateFrameBytes(frame);
    this.frames.push(frame);
    this.sizes.push(size);
    this.bytes += size;
    while (this.bytes > this.maxBytes && this.size > 0) this.dropOldest();
    return size;
  }

  private dropOldest(): void {
    const frame = this.frames[this.head];
    this.bytes -= this.sizes[this.head];
    this.frames[this.head] = undefined as unknown as Frame;
    this.head++;
    this.dropped++;
    if (frame.kind === 'data') this.droppedThrough = Math.max(this.droppedThrough, frame.seq + frame.count);
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Checkpoint `checkpointId` completed: what came before its barrier is no longer needed (a
   * restarted downstream task restores at least this far). Unknown ids change nothing.
   */
  trim(checkpointId: number): void {
    const seq = this.barriers.get(checkpointId);
    if (seq === undefined) return;
    for (const id of [...this.barriers.keys()]) if (id <= checkpointId) this.barriers.delete(id);
    while (this.size > 0) {
      const f = this.frames[this.head];
      // A watermark frame carries no records: it is before the barrier if it is ahead of it here.
      const before =
        f.kind === 'data' ? f.seq + f.count <= seq : f.kind === 'barrier' ? f.barrier!.checkpointId <= checkpointId : f.kind === 'watermark' ? f.seq <= seq : false;
      if (!before) break;
      this.bytes -= this.sizes[this.head];
      this.frames[this.head] = undefined as unknown as Frame;
      this.head++;
      if (f.kind === 'barrier' && f.barrier!.checkpointId === checkpointId) break;
    }
    this.compact();
    if (this.droppedThrough >= 0 && this.droppedThrough <= seq) this.droppedThrough = -1;
  }

  /** The buffered frames, oldest first, relabelled for channel `channel`. */
  framesFor(channel: string): Frame[] {
    const out: Frame[] = [];
    for (let i = this.head; i < this.frames.length; i++) {
      const f = this.frames[i];
      out.push(f.channel === channel ? f : makeFrame(channel, f.kind, f.seq, f.records, f.barrier, f.watermark, f.determinants, f.timestamps));
    }
    return out;
  }
}
