import { describe, expect, it } from 'vitest';
import { referenceQ3 } from './reference-q3.js';
import { auction, person } from './test-events.js';

describe('referenceQ3', () => {
  it('joins category-10 auctions with their sellers in OR, ID or CA, in either order of arrival', () => {
    const rows = referenceQ3([
      auction(100, 1, 10), // before its seller
      person(1, 'OR'),
      person(2, 'WA'), // wrong state
      person(3, 'CA'),
      auction(101, 2, 10),
      auction(102, 3, 11), // wrong category
      auction(103, 3, 10),
      auction(104, 9, 10), // seller never seen
      auction(105, 1, 10),
    ]);
    expect(rows).toEqual([
      { name: 'P1', city: 'City1', state: 'OR', id: 100 },
      { name: 'P3', city: 'City3', state: 'CA', id: 103 },
      { name: 'P1', city: 'City1', state: 'OR', id: 105 },
    ]);
  });
});
