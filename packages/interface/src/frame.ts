/** Stable id of a channel: `${edgeId}:${sourceIndex}->${targetIndex}`. */
export type ChannelId = string;

/** What a frame carries. */
export type FrameKind = 'data' | 'barrier' | 'watermark' | 'determinants' | 'end';

/** A checkpoint barrier: all records before it belong to checkpoint `checkpointId`. */
export interface Barrier {
  readonly checkpointId: number;
  readonly timestamp: number;
  /** `savepoint` keeps the snapshot; `rescale` stops the tasks being rescaled at the barrier. */
  readonly type: 'checkpoint' | 'savepoint' | 'rescale';
}

/**
 * One entry of a task's determinant log: a choice the task made that its output depends on.
 * `order`: it took `count` records from input `input` (its input channels in plan order);
 * `time` / `random`: `ctx.now()` / `ctx.random()` returned `value`; `watermark`: the task's input
 * watermark rose to `value` at this point; `timers`: its processing-time timers fired here with
 * the clock at `value` (event-time windows and timers fire at the same places on replay). A restarted task replays
 * the entries in order to regenerate exactly the output it sent before it died.
 */
export interface Determinant {
  /** Position in the task's log: 0, 1, 2, ... across checkpoints and restarts. */
  readonly n: number;
  readonly kind: 'order' | 'time' | 'random' | 'watermark' | 'timers';
  /** Input index (`order`), else 0. */
  readonly input: number;
  /** Records taken (`order`), else 0. */
  readonly count: number;
  /** The value returned (`time`, `random`), else 0. */
  readonly value: number;
}

/** @deprecated the former name of {@link Determinant}. */
export type DeterminantRun = Determinant;

/**
 * The unit on the wire: a batch of records for one channel, or a control marker.
 * Every field is always present (null when unused) so frames keep one shape.
 */
export interface Frame<R = unknown> {
  readonly channel: ChannelId;
  readonly kind: FrameKind;
  /** Sequence number of the first record (data), or the channel's next sequence number. */
  readonly seq: number;
  /** Number of records (data), 0 otherwise. */
  readonly count: number;
  readonly records: readonly R[] | null;
  readonly barrier: Barrier | null;
  readonly watermark: number | null;
  /** Determinant log entries of the sending task, ahead of the records that depend on them. */
  readonly determinants: readonly Determinant[] | null;
  /**
   * The event time of each record (data frames whose records have timestamps), in ms, as long as
   * `records`; NaN for a record without one. Null when no record of the frame has a timestamp.
   */
  readonly timestamps: readonly number[] | null;
}

/** Builds a frame with every field set, so all frames share one hidden class. */
export function makeFrame<R>(
  channel: ChannelId,
  kind: FrameKind,
  seq: number,
  records: readonly R[] | null,
  barrier: Barrier | null = null,
  watermark: number | null = null,
  determinants: readonly Determinant[] | null = null,
  timestamps: readonly number[] | null = null,
): Frame<R> {
  return { channel, kind, seq, count: records === null ? 0 : records.length, records, barrier, watermark, determinants, timestamps };
}

/**
 * A watermark frame says "no record older than `watermark` will come on this channel". One
 * with `watermark: null` marks the channel idle: the receiving task leaves it out of its input
 * watermark (the minimum over its channels) until the channel's next watermark frame. An ended
 * channel is left out too; a bounded source sends `+Infinity` before it ends.
 */
export function makeWatermarkFrame(channel: ChannelId, seq: number, watermark: number | null): Frame<never> {
  return makeFrame<never>(channel, 'watermark', seq, null, null, watermark);
}

/** True for a watermark frame that marks its channel idle (see {@link makeWatermarkFrame}). */
export function isIdleMarker(frame: Frame): boolean {
  return frame.kind === 'watermark' && frame.watermark === null;
}

const DETERMINANT_KINDS: ReadonlySet<string> = new Set(['order', 'time', 'random', 'watermark', 'timers']);
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** True if `v` has the shape of a {@link Determinant} (for codecs validating frames from the network). */
export function isDeterminant(v: unknown): v is Determinant {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  return isCount(d.n) && typeof d.kind === 'string' && DETERMINANT_KINDS.has(d.kind) && isCount(d.input) && isCount(d.count) && typeof d.value === 'number';
}

/**
 * The longest of several copies of one task's determinant log (the one reaching the highest
 * position): copies held by different downstream tasks are prefixes of the same log.
 */
export function longestDeterminants(copies: Iterable<readonly Determinant[]>): readonly Determinant[] {
  let best: readonly Determinant[] = [];
  for (const list of copies) {
    if (list.length > 0 && (best.length === 0 || list[list.length - 1].n > best[best.length - 1].n)) best = list;
  }
  return best;
}
