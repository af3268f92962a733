import { describe, expect, it } from 'vitest';
import { referenceQ0 } from './reference-q0.js';
import { auction, bid, person } from './test-events.js';

describe('referenceQ0', () => {
  it('passes every bid through with its five columns and drops persons and auctions', () => {
    const rows = referenceQ0([person(1, 'OR'), bid(7, 300, 5, 2), auction(7, 1, 10), bid(8, 100, 6, 3)]);
    expect(rows).toEqual([
      { auction: 7, bidder: 2, price: 300, dateTime: 5, extra: 'x7-5' },
      { auction: 8, bidder: 3, price: 100, dateTime: 6, extra: 'x8-6' },
    ]);
  });
});
