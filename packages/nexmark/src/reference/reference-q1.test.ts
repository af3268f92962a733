import { describe, expect, it } from 'vitest';
import { referenceQ1 } from './reference-q1.js';
import { bid, person } from './test-events.js';

describe('referenceQ1', () => {
  it('converts each price to euros at 0.908, exact to three decimals', () => {
    const rows = referenceQ1([bid(1, 1000, 0), person(2, 'CA'), bid(2, 3, 1), bid(3, 12_345_678, 2)]);
    expect(rows.map((r) => r.price)).toEqual([908, 2.724, 11_209_875.624]);
    expect(rows[1]).toEqual({ auction: 2, bidder: 1, price: 2.724, dateTime: 1, extra: 'x2-1' });
  });
});
