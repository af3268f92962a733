import { describe, expect, it } from 'vitest';
import { referenceQ7 } from './reference-q7.js';
import { bid } from './test-events.js';

describe('referenceQ7', () => {
  it('returns the bids with the highest price of their 10 s window, a bid at the end bound joining the window before too', () => {
    const rows = referenceQ7([
      bid(1, 50, 1000),
      bid(2, 80, 4000), // max of [0, 10 s)
      bid(3, 80, 9000), // tie
      bid(4, 80, 10_000), // in [10 s, 20 s), where it is the max, and at the end of [0, 10 s) with its max price
      bid(5, 10, 15_000),
    ]);
    expect(rows.map((r) => [r.auction, r.price, r.dateTime])).toEqual([
      [2, 80, 4000],
      [3, 80, 9000],
      [4, 80, 10_000],
      [4, 80, 10_000],
    ]);
    expect(rows[0]).toEqual({ auction: 2, bidder: 1, price: 80, dateTime: 4000, extra: 'x2-4000' });
  });
});
