import { describe, expect, it } from 'vitest';
import { referenceQ4 } from './reference-q4.js';
import { auction, bid } from './test-events.js';

describe('referenceQ4', () => {
  it('averages per category the highest bid made while each auction was open (bounds included)', () => {
    const rows = referenceQ4([
      auction(1, 0, 10, 100, 200),
      auction(2, 0, 10, 100, 200),
      auction(3, 0, 11, 100, 200),
      auction(4, 0, 12, 100, 200), // no bid in time: left out
      bid(1, 50, 100), // at the open: counts
      bid(1, 70, 200), // at the close: counts, the final of auction 1
      bid(1, 999, 201), // after the close
      bid(2, 25, 150),
      bid(3, 40, 120),
      bid(4, 500, 99), // before the open
    ]);
    // Category 10: (70 + 25) / 2 = 47.5, truncated as AVG over BIGINT.
    expect(rows).toEqual([
      { category: 10, avgFinal: 47 },
      { category: 11, avgFinal: 40 },
    ]);
  });
});
