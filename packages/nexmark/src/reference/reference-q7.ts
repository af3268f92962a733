import type { Event } from '../model.js';
import type { Q7Row } from '../query-rows.js';
import { bidsOf } from './bids-of.js';
import { Q7_WINDOW_MS, tumbleStart } from './window-bounds.js';

/**
 * q7, highest bid: the highest price of each 10 s tumbling window, joined back to the bids with
 * that price and `window_end - 10 s <= B.dateTime <= window_end`. BETWEEN is inclusive, so a bid
 * at exactly a window's end (which belongs to the next window) also joins the window before if
 * its price equals that window's maximum; such a bid can appear twice. Rows in window order, then
 * in bid order.
 */
export function referenceQ7(events: readonly Event[]): Q7Row[] {
  const bids = bidsOf(events);
  const maxPrice = new Map<number, number>();
  for (const b of bids) {
    const start = tumbleStart(b.dateTime, Q7_WINDOW_MS);
    const m = maxPrice.get(start);
    if (m === undefined || b.price > m) maxPrice.set(start, b.price);
  }
  const rows: Q7Row[] = [];
  for (const start of [...maxPrice.keys()].sort((x, y) => x - y)) {
    const max = maxPrice.get(start)!;
    const end = start + Q7_WINDOW_MS;
    for (const b of bids) {
      if (b.price === max && b.dateTime >= end - Q7_WINDOW_MS && b.dateTime <= end) {
        rows.push({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra });
      }
    }
  }
  return rows;
}
