import { describe, expect, it } from 'vitest';
import { referenceQ5 } from './reference-q5.js';
import { bid } from './test-events.js';

describe('referenceQ5', () => {
  it('gives per 10 s window sliding by 2 s the auctions with the most bids, ties included', () => {
    // Auction 1: bids at 1 s and 3 s; auction 2: one bid at 9.999 s; auction 3: one at 11 s.
    const rows = referenceQ5([bid(1, 1, 1000), bid(1, 1, 3000), bid(2, 1, 9999), bid(3, 1, 11_000)]);
    const w = (start: number): [number, number] => [start, start + 10_000];
    const row = (auction: number, num: number, start: number): object => ({ auction, num, windowStart: w(start)[0], windowEnd: w(start)[1] });
    expect(rows).toEqual([
      row(1, 1, -8000), // holds 1 s only
      row(1, 2, -6000),
      row(1, 2, -4000),
      row(1, 2, -2000),
      row(1, 2, 0),
      row(1, 1, 2000), // 3 s, 9.999 s, 11 s: a three-way tie
      row(2, 1, 2000),
      row(3, 1, 2000),
      row(2, 1, 4000), // 9.999 s and 11 s
      row(3, 1, 4000),
      row(2, 1, 6000),
      row(3, 1, 6000),
      row(2, 1, 8000),
      row(3, 1, 8000),
      row(3, 1, 10_000),
    ]);
  });
});
