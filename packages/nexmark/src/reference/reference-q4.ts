import type { Event } from '../model.js';
import type { Q4Row } from '../query-rows.js';
import { auctionsOf, bidsOf } from './bids-of.js';

/**
 * q4, average price per category: the winning bid of an auction is its highest bid with
 * `A.dateTime <= B.dateTime <= A.expires` (BETWEEN is inclusive); auctions without one are left
 * out (inner join); then the average per category, truncated as Flink's AVG over BIGINT. The
 * result of the whole input (the last value of Flink's updating result), ordered by category.
 */
export function referenceQ4(events: readonly Event[]): Q4Row[] {
  const finals = new Map<number, { category: number; final: number }>();
  const auctions = new Map(auctionsOf(events).map((a) => [a.id, a]));
  for (const b of bidsOf(events)) {
    const a = auctions.get(b.auction);
    if (a === undefined || b.dateTime < a.dateTime || b.dateTime > a.expires) continue;
    const f = finals.get(a.id);
    if (f === undefined) finals.set(a.id, { category: a.category, final: b.price });
    else if (b.price > f.final) f.final = b.price;
  }
  const perCategory = new Map<number, { sum: number; count: number }>();
  for (const { category, final } of finals.values()) {
    const c = perCategory.get(category) ?? { sum: 0, count: 0 };
    c.sum += final;
    c.count++;
    perCategory.set(category, c);
  }
  return [...perCategory.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([category, c]) => ({ category, avgFinal: Math.trunc(c.sum / c.count) }));
}
