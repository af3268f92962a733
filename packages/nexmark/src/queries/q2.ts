import type { DataStream, StreamingContext } from '@mobius/api';
import type { NexmarkConfig } from '../generator-config.js';
import type { Bid } from '../model.js';
import type { Q2Row } from '../query-rows.js';
import { bidStream } from './nexmark-stream.js';

const selected = (b: Bid): boolean => b.auction % 123 === 0;
const toRow = (b: Bid): Q2Row => ({ auction: b.auction, price: b.price });

/** Nexmark q2, selection: `SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0`. */
export function q2(ctx: StreamingContext, config: NexmarkConfig = {}): DataStream<Q2Row> {
  return bidStream(ctx, config).filter(selected).map(toRow).name('q2');
}
