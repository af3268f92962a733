import type { Event } from '../model.js';
import type { Q1Row } from '../query-rows.js';
import { bidsOf } from './bids-of.js';
import { dollarsToEuros } from './currency.js';

/** q1: `SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid`. */
export function referenceQ1(events: readonly Event[]): Q1Row[] {
  return bidsOf(events).map((b) => ({ auction: b.auction, bidder: b.bidder, price: dollarsToEuros(b.price), dateTime: b.dateTime, extra: b.extra }));
}
