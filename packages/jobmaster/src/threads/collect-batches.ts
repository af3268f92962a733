import { makeFrame, type Codec, type ControlMessage } from '@mobius/interface';

type CollectMessage = Extract<ControlMessage, { type: 'collect' }>;

/**
 * A collect batch as it crosses from a task thread to the main thread. With a codec, the
 * records travel encoded in one buffer that is transferred, not cloned: structured cloning a
 * batch of small records one object at a time cost the sending thread more than the job's own
 * work per record did (a word count's 4.5 M running totals). Without one, they are cloned.
 */
export interface CollectBatch {
  readonly message: CollectMessage;
  /** The records, encoded by the codec as one data frame (then `message.records` is empty). */
  readonly encoded?: Uint8Array;
}

/** The batch to post, and the buffers to transfer with it. */
export function encodeCollectBatch(message: CollectMessage, codec: Codec | undefined): { readonly batch: CollectBatch; readonly transfer: ArrayBuffer[] } {
  if (codec === undefined || message.records.length === 0) return { batch: { message }, transfer: [] };
  const encoded = codec.encode(makeFrame(message.collectId, 'data', 0, message.records));
  // A view on a larger or shared buffer cannot be transferred alone: copy it then.
  const own = encoded.byteOffset === 0 && encoded.byteLength === encoded.buffer.byteLength && encoded.buffer instanceof ArrayBuffer ? encoded : encoded.slice();
  return { batch: { message: { ...message, records: [] }, encoded: own }, transfer: [own.buffer as ArrayBuffer] };
}

/** The `collect` message again, its records decoded. */
export function decodeCollectBatch(batch: CollectBatch, codec: Codec | undefined): CollectMessage {
  if (batch.encoded === undefined) return batch.message;
  if (codec === undefined) throw new Error('a collect batch arrived encoded, but this side has no codec to decode it');
  return { ...batch.message, records: codec.decode(batch.encoded).records ?? [] };
}
