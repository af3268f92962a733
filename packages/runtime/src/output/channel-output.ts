import { makeFrame, makeWatermarkFrame, type Barrier, type ChannelSender, type Frame } from '@mobius/interface';
import { estimateFrameBytes, type ReplayBuffer } from '../failover/replay-buffer.js';
import type { TaskOutputs } from './task-outputs.js';
import type { ElementTime } from '../element-time.js';

/**
 * One outgoing channel of a task: fills a batch, turns it into a frame, and sends it when the
 * channel has credit. Frames without credit wait in a small outbox that a pump drains as
 * credits return; the task stops taking input while any outbox is non-empty, so the outbox
 * holds at most what one input batch produced.
 */
export class ChannelOutput {
  /**
   * The records of the next frame, `batch[0..batchLength)`. The array is allocated at the size
   * of the last frame (capped by the batch size) rather than grown by push: growing to 1024
   * records copies the array nine times, garbage that costs about a tenth of a word count's
   * young-generation collections.
   */
  private batch: unknown[];
  private batchLength = 0;
  /** The timestamps of the batch's records, from the first record that had one (NaN for those without); null: none yet. */
  private stamps: number[] | null = null;
  /** The task's element time: the timestamp of the record being pushed. */
  private readonly time: ElementTime;
  /** Sequence number of the next record; continues across frames (and, later, restarts). */
  private seq = 0;
  private outbox: Frame[] = [];
  private outboxHead = 0;
  private pumping = false;
  private closed = false;
  /** Position of the next determinant log entry to send on this channel. */
  determinantCursor = 0;
  /** Estimated bytes of the frames waiting for credit (channels with a replay buffer). */
  queuedBytes = 0;
  /**
   * The task stops taking input while this channel holds more than this many bytes waiting
   * for credit. Without replay: 0 (any frame waiting stops it). With replay the frames are kept
   * in the replay buffer anyway, so the task keeps feeding its other channels while one
   * downstream task is slow or being recovered, up to half the buffer.
   */
  readonly limitBytes: number;
  /** Counted in the owner's `blocked`. */
  private over = false;
  /**
   * The receiver closed the channel (its task failed or was cancelled for a recovery): frames
   * wait, kept, for the rewire to its next attempt (only with a replay buffer).
   */
  private detached = false;

  constructor(
    public id: string,
    private sender: ChannelSender,
    private readonly batchSize: number,
    private readonly owner: TaskOutputs,
    /** What was sent since the last completed checkpoint (single-task failover); null: no replay. */
    readonly replay: ReplayBuffer | null = null,
    /** Queue beyond credit while the receiver is merely slow (see TaskServices.replayRunAhead). */
    private readonly runAhead = true,
  ) {
    this.limitBytes = replay === null ? 0 : Math.floor(replay.maxBytes / 2);
    this.batch = newBatch(batchSize, batchSize);
    this.time = owner.time;
  }

  private trySend(frame: Frame): boolean {
    try {
      return this.sender.trySend(frame);
    } catch (e) {
      if (this.replay === null || (e as { code?: string }).code !== 'TRANSPORT_CLOSED') throw e;
      this.detached = true;
      return false;
    }
  }

  private updateOver(): void {
    const limit = this.runAhead || this.detached ? this.limitBytes : 0;
    const over = limit === 0 ? this.queuedFrames > 0 : this.queuedBytes > limit;
    if (over === this.over) return;
    this.over = over;
    this.owner.setBlocked(over);
  }

  push(record: unknown): void {
    const n = this.batchLength;
    this.batch[n] = record;
    this.owner.recordsEmitted++;
    const ts = this.time.timestamp;
    // A stream without event time pays one comparison per record (NaN !== NaN).
    if (ts === ts) (this.stamps ?? this.startStamps(n))[n] = ts;
    else if (this.stamps !== null) this.stamps[n] = NaN;
    if (++this.batchLength >= this.batchSize) this.flush();
  }

  /** The first record with a timestamp in this batch: the ones before it had none. */
  private startStamps(n: number): number[] {
    const stamps = new Array<number>(n);
    for (let i = 0; i < n; i++) stamps[i] = NaN;
    this.stamps = stamps;
    return stamps;
  }

  /** Sends the partial batch, if any. */
  flush(): void {
    const n = this.batchLength;
    if (n === 0) return;
    const batch = this.batch;
    if (batch.length !== n) batch.length = n;
    this.batch = newBatch(n, this.batchSize);
    this.batchLength = 0;
    const stamps = this.stamps;
    if (stamps !== null) {
      if (stamps.length !== n) stamps.length = n;
      this.stamps = null;
    }
    const frame = makeFrame(this.id, 'data', this.seq, batch, null, null, this.owner.determinantsFor(this), stamps);
    this.seq += batch.length;
    this.owner.recordsOut += batch.length;
    this.send(frame);
  }

  /** Flushes, then queues the end-of-stream marker behind the data. */
  end(): void {
    this.flush();
    this.send(makeFrame(this.id, 'end', this.seq, null, null, null, this.owner.determinantsFor(this)));
  }

  /** Flushes, then queues a checkpoint barrier behind the data. */
  barrier(barrier: Barrier): void {
    this.flush();
    this.send(makeFrame(this.id, 'barrier', this.seq, null, barrier, null, this.owner.determinantsFor(this)));
  }

  /** Flushes, then sends a watermark behind the data (a barrier sent later cannot overtake it). */
  watermark(watermark: number): void {
    this.flush();
    this.send(makeFrame(this.id, 'watermark', this.seq, null, null, watermark, this.owner.determinantsFor(this)));
  }

  /** Flushes, then marks the channel idle (a watermark frame without a watermark). */
  idle(): void {
    this.flush();
    this.send(makeWatermarkFrame(this.id, this.seq, null));
  }

  /**
   * The downstream task restarted: send on `sender` (channel `id`) from now on, first replaying
   * every frame kept since the last completed checkpoint (the receiver drops what it has).
   * Returns the number of frames replayed.
   */
  rewire(sender: ChannelSender, id: string): number {
    const old = this.sender;
    this.sender = sender;
    this.id = id;
    this.closed = false;
    this.detached = false;
    try {
      old.close();
    } catch {
      // already closed
    }
    // Frames waiting for credit are in the replay buffer too.
    this.owner.queuedFrames -= this.queuedFrames;
    this.outbox = this.replay === null ? [] : this.replay.framesFor(id);
    this.outboxHead = 0;
    this.owner.queuedFrames += this.outbox.length;
    this.queuedBytes = 0;
    if (this.limitBytes > 0) for (const f of this.outbox) this.queuedBytes += estimateFrameBytes(f);
    this.updateOver();
    if (this.outbox.length > 0 && !this.pumping) void this.pump();
    return this.outbox.length;
  }

  /** The sequence number the next record gets (saved in checkpoints, restored on recovery). */
  get nextSeq(): number {
    return this.seq;
  }

  set nextSeq(seq: number) {
    this.seq = seq;
  }

  get queuedFrames(): number {
    return this.outbox.length - this.outboxHead;
  }

  private send(frame: Frame): void {
    const size = this.replay !== null ? this.replay.add(frame) : 0;
    if (this.queuedFrames === 0 && !this.detached && this.trySend(frame)) return;
    this.outbox.push(frame);
    this.owner.queuedFrames++;
    this.queuedBytes += size;
    this.updateOver();
    if (!this.pumping && !this.detached) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    this.owner.backlog++;
    try {
      while (this.queuedFrames > 0 && !this.owner.stopped) {
        await this.sender.whenWritable();
        if (this.owner.stopped) break; // cancelled while waiting: send nothing more
        while (this.queuedFrames > 0 && this.trySend(this.outbox[this.outboxHead])) {
          if (this.limitBytes > 0) this.queuedBytes -= estimateFrameBytes(this.outbox[this.outboxHead]);
          this.outbox[this.outboxHead++] = undefined as unknown as Frame;
          this.owner.queuedFrames--;
        }
        this.updateOver();
        if (this.detached) break;
      }
    } catch (e) {
      this.owner.fail(e);
    } finally {
      // Frames left here (stopped or failed) are dropped: keep the task-wide count true. A
      // detached channel keeps them for its rewire.
      if (!this.detached || this.owner.stopped) {
        this.owner.queuedFrames -= this.queuedFrames;
        this.outbox = [];
        this.outboxHead = 0;
        this.queuedBytes = 0;
        this.updateOver();
      }
      this.pumping = false;
      this.owner.pumpDone();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sender.close();
  }
}

/** An array for the next frame's records: as long as the last frame (at least 16, at most the batch size). */
function newBatch(lastLength: number, batchSize: number): unknown[] {
  return new Array<unknown>(Math.min(batchSize, Math.max(16, lastLength)));
}
