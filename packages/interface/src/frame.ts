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

/** A run of records taken from one input of a multi-input task (determinant log). */
export interface DeterminantRun {
  readonly input: number;
  readonly count: number;
}

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
  readonly determinants: readonly DeterminantRun[] | null;
}

/** Builds a frame with every field set, so all frames share one hidden class. */
export function makeFrame<R>(
  channel: ChannelId,
  kind: FrameKind,
  seq: number,
  records: readonly R[] | null,
  barrier: Barrier | null = null,
  watermark: number | null = null,
  determinants: readonly DeterminantRun[] | null = null,
): Frame<R> {
  return { channel, kind, seq, count: records === null ? 0 : records.length, records, barrier, watermark, determinants };
}
