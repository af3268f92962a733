import { describe, expect, it } from 'vitest';
import { LoopPauses } from './loop-pauses.js';

describe('LoopPauses', () => {
  it('reports nothing while checks come on time or within the tolerance', () => {
    const p = new LoopPauses(250, 500, 0);
    expect(p.held(250)).toBe(0);
    expect(p.held(500)).toBe(0);
    expect(p.held(1200)).toBe(0); // 450 ms late: within the tolerance
  });

  it('reports how long the loop was held beyond the period, once', () => {
    const p = new LoopPauses(250, 500, 0);
    expect(p.held(9250)).toBe(9000);
    expect(p.held(9500)).toBe(0);
  });
});
