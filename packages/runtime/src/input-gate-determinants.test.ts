import { describe, expect, it } from 'vitest';
import { gateOf, barrier, data, barrierFrame, end, order, pollAll, records } from './test-input-gate.js';

describe('InputGate: copies of the upstream determinant logs', () => {
  it('keeps none unless asked', () => {
    const { gate, senders } = gateOf(1);
    senders[0].trySend(data('c0', 0, 1, [order(0)]));
    pollAll(gate);
    expect(gate.determinants).toBeUndefined();
    expect(gate.determinantsOf([0])).toEqual([]);
  });

  it('receives the entries carried by every kind of frame, including duplicates it drops', () => {
    const { gate, senders } = gateOf(2, { determinantEntries: 100 });
    senders[0].trySend(data('c0', 0, 1, [order(0), order(1)]));
    senders[0].trySend(data('c0', 0, 1, [order(1), order(2)])); // a duplicate frame: its entries still count
    senders[0].trySend(barrierFrame('c0', 1, 1, [order(3)]));
    senders[1].trySend(data('c1', 0, 1, [order(0, 1, 7)]));
    senders[1].trySend(barrierFrame('c1', 1, 1));
    senders[1].trySend(end('c1', 1, [order(1, 1, 8)]));
    pollAll(gate);
    expect(gate.determinants![0].list().map((d) => d.n)).toEqual([0, 1, 2, 3]);
    expect(gate.determinants![1].list()).toEqual([order(0, 1, 7), order(1, 1, 8)]);
  });

  it('trims at checkpointComplete through the position each upstream had at its barrier', () => {
    const { gate, senders } = gateOf(2, { determinantEntries: 100 });
    senders[0].trySend(data('c0', 0, 1, [order(0), order(1)]));
    senders[0].trySend(barrierFrame('c0', 1, 1, [order(2)]));
    senders[0].trySend(data('c0', 1, 1, [order(3)]));
    senders[1].trySend(data('c1', 0, 1, [order(0, 1, 1)]));
    senders[1].trySend(barrierFrame('c1', 1, 1));
    senders[1].trySend(data('c1', 1, 1, [order(1, 1, 1)]));
    expect(records(pollAll(gate))).toEqual(['c0/0', 'c1/0', 'barrier 1', 'c0/1', 'c1/1']);
    gate.checkpointComplete(5); // unknown: nothing
    expect(gate.determinants!.map((d) => d.list().length)).toEqual([4, 2]);
    gate.checkpointComplete(1);
    expect(gate.determinants![0].list().map((d) => d.n)).toEqual([3]);
    expect(gate.determinants![1].list().map((d) => d.n)).toEqual([1]);
  });

  it('determinantsOf() gives the longest copy among the channels of one upstream task', () => {
    const { gate, senders } = gateOf(3, { determinantEntries: 100 });
    senders[0].trySend(data('c0', 0, 1, [order(0), order(1)]));
    senders[1].trySend(data('c1', 0, 1, [order(0), order(1), order(2)]));
    senders[2].trySend(data('c2', 0, 1, [order(0, 1, 1), order(1, 1, 1), order(2, 1, 1), order(3, 1, 1)]));
    pollAll(gate);
    expect(gate.determinantsOf([0, 1]).map((d) => d.n)).toEqual([0, 1, 2]);
    expect(gate.determinantsOf([1, 0]).map((d) => d.n)).toEqual([0, 1, 2]);
    expect(gate.determinantsOf([0])).toHaveLength(2);
    expect(gate.determinantsOf([2])).toHaveLength(4);
    expect(gate.determinantsOf([])).toEqual([]);
  });

  it('is bounded per channel', () => {
    const { gate, senders } = gateOf(1, { determinantEntries: 2 });
    senders[0].trySend(data('c0', 0, 1, [order(0), order(1), order(2)]));
    pollAll(gate);
    expect(gate.determinantsOf([0]).map((d) => d.n)).toEqual([1, 2]);
    expect(gate.determinants![0].droppedThrough).toBe(0);
  });
});
