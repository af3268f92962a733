import { describe, expect, it } from 'vitest';
import { referenceQ8 } from './reference-q8.js';
import { auction, person } from './test-events.js';

describe('referenceQ8', () => {
  it('returns the persons who created an auction in the 10 s window they joined in, once each', () => {
    const rows = referenceQ8([
      person(1, 'OR', 1000),
      person(2, 'CA', 2000),
      person(3, 'WA', 9000),
      auction(10, 1, 10, 5000),
      auction(11, 1, 10, 6000), // a second auction: still one row
      auction(12, 3, 10, 10_000), // the next window
      person(4, 'ID', 12_000),
      auction(13, 4, 10, 19_999),
    ]);
    expect(rows).toEqual([
      { id: 1, name: 'P1', stime: 0 },
      { id: 4, name: 'P4', stime: 10_000 },
    ]);
  });
});
