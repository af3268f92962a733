import type { DataStream, StreamingContext } from '@mobius/api';
import type { NexmarkConfig } from '../generator-config.js';
import type { Bid } from '../model.js';
import type { Q1Row } from '../query-rows.js';
import { dollarsToEuros } from '../reference/currency.js';
import { bidStream } from './nexmark-stream.js';

const toEuros = (b: Bid): Q1Row => ({ auction: b.auction, bidder: b.bidder, price: dollarsToEuros(b.price), dateTime: b.dateTime, extra: b.extra });

/** Nexmark q1, currency conversion: `SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid`. */
export function q1(ctx: StreamingContext, config: NexmarkConfig = {}): DataStream<Q1Row> {
  return bidStream(ctx, config).map(toEuros).name('q1');
}
