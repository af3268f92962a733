import { describe, expect, it } from 'vitest';
import { referenceQ11 } from './reference-q11.js';
import { bid } from './test-events.js';

describe('referenceQ11', () => {
  it('counts each bidder\'s bids per session, a gap of 10 s or more starting a new one', () => {
    const rows = referenceQ11([
      bid(1, 1, 1000, 7),
      bid(1, 1, 30_000, 8),
      bid(1, 1, 10_999, 7), // 9.999 s after the first: same session (out of order on purpose)
      bid(1, 1, 20_999, 7), // exactly 10 s after the last: a new session
      bid(1, 1, 25_000, 7),
    ]);
    expect(rows).toEqual([
      { bidder: 7, bidCount: 2, starttime: 1000, endtime: 20_999 },
      { bidder: 7, bidCount: 2, starttime: 20_999, endtime: 35_000 },
      { bidder: 8, bidCount: 1, starttime: 30_000, endtime: 40_000 },
    ]);
  });
});
