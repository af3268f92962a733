import { describe, expect, it } from 'vitest';
import { referenceQ2 } from './reference-q2.js';
import { bid } from './test-events.js';

describe('referenceQ2', () => {
  it('keeps the bids on auctions whose id is a multiple of 123', () => {
    const rows = referenceQ2([bid(123, 5, 0), bid(124, 6, 0), bid(0, 7, 0), bid(246, 8, 0), bid(1000, 9, 0)]);
    expect(rows).toEqual([
      { auction: 123, price: 5 },
      { auction: 0, price: 7 },
      { auction: 246, price: 8 },
    ]);
  });
});
