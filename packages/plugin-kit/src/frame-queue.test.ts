import { describe, expect, it } from 'vitest';
import { FrameQueue } from './frame-queue.js';

describe('FrameQueue', () => {
  it('is first in, first out, and empty gives undefined', () => {
    const q = new FrameQueue<number>();
    expect(q.shift()).toBeUndefined();
    for (let i = 0; i < 5; i++) q.push(i);
    expect(q.length).toBe(5);
    expect([q.shift(), q.shift()]).toEqual([0, 1]);
    q.push(5);
    const rest: number[] = [];
    for (let v = q.shift(); v !== undefined; v = q.shift()) rest.push(v);
    expect(rest).toEqual([2, 3, 4, 5]);
    expect(q.length).toBe(0);
  });

  it('keeps order across compaction while never empty', () => {
    const q = new FrameQueue<number>();
    let next = 0;
    let expected = 0;
    // Always 10 queued, 100k through: the consumed prefix is compacted many times.
    for (let i = 0; i < 10; i++) q.push(next++);
    let outOfOrder = 0;
    for (let i = 0; i < 100_000; i++) {
      if (q.shift() !== expected++) outOfOrder++;
      q.push(next++);
    }
    expect(outOfOrder).toBe(0);
    expect(q.length).toBe(10);
  });

  it('clear empties it', () => {
    const q = new FrameQueue<string>();
    q.push('a');
    q.clear();
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });
});
