import type { DataStream, StreamingContext } from '@mobius/api';
import type { NexmarkConfig } from '../generator-config.js';
import type { Bid } from '../model.js';
import type { BidRow } from '../query-rows.js';
import { bidStream } from './nexmark-stream.js';

const toRow = (b: Bid): BidRow => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra });

/** Nexmark q0, pass-through: `SELECT auction, bidder, price, dateTime, extra FROM bid`. */
export function q0(ctx: StreamingContext, config: NexmarkConfig = {}): DataStream<BidRow> {
  return bidStream(ctx, config).map(toRow).name('q0');
}
