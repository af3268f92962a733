import type { Event } from '../model.js';
import type { Q2Row } from '../query-rows.js';
import { bidsOf } from './bids-of.js';

/** q2: `SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0`. */
export function referenceQ2(events: readonly Event[]): Q2Row[] {
  return bidsOf(events)
    .filter((b) => b.auction % 123 === 0)
    .map((b) => ({ auction: b.auction, price: b.price }));
}
