import type { Event } from '../model.js';
import type { BidRow } from '../query-rows.js';
import { bidsOf } from './bids-of.js';

/** q0: `SELECT auction, bidder, price, dateTime, extra FROM bid`. */
export function referenceQ0(events: readonly Event[]): BidRow[] {
  return bidsOf(events).map((b) => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra }));
}
