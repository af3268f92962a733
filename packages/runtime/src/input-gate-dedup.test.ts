import { MobiusError } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { InputGate } from './input-gate.js';
import { thrown } from './test-channels.js';
import { gateOf, barrier, data, barrierFrame, end, order, pollAll, records } from './test-input-gate.js';

describe('InputGate: de-duplication by sequence number', () => {
  it('drops a frame whose records were all read before', () => {
    const { gate, senders } = gateOf(1);
    senders[0].trySend(data('c0', 0, 3));
    senders[0].trySend(data('c0', 0, 3)); // replayed
    senders[0].trySend(data('c0', 1, 2)); // replayed, a subset
    senders[0].trySend(data('c0', 3, 1));
    const frames = pollAll(gate);
    expect(records(frames)).toEqual(['c0/0', 'c0/1', 'c0/2', 'c0/3']);
    expect(gate.lastSeq).toEqual([3]);
  });

  it('slices a frame that overlaps what was read, keeping the new records with their sequence numbers', () => {
    const { gate, senders } = gateOf(1);
    senders[0].trySend(data('c0', 0, 2));
    senders[0].trySend(data('c0', 1, 4)); // 1 seen, 2..4 new
    const frames = pollAll(gate);
    expect(frames).toHaveLength(2);
    expect(frames[1]).toMatchObject({
      channel: 'c0',
      kind: 'data',
      seq: 2,
      count: 3,
      records: ['c0/2', 'c0/3', 'c0/4'],
    });
    expect(gate.lastSeq).toEqual([4]);
  });

  it('keeps the last sequence number per channel', () => {
    const { gate, senders } = gateOf(2);
    senders[0].trySend(data('c0', 0, 5));
    senders[1].trySend(data('c1', 0, 2));
    pollAll(gate);
    expect(gate.lastSeq).toEqual([4, 1]);
    senders[1].trySend(data('c1', 0, 5)); // 0, 1 seen on c1: records of c1 only are compared with c1's
    expect(records(pollAll(gate))).toEqual(['c1/2', 'c1/3', 'c1/4']);
  });

  it('a gap (records missing) is CHANNEL_GAP naming the channel and the missing records', () => {
    const { gate, senders } = gateOf(2, { taskName: 'sum#1' });
    senders[1].trySend(data('c1', 0, 2));
    pollAll(gate);
    senders[1].trySend(data('c1', 5, 1));
    const e = thrown(() => gate.poll());
    expect(e).toBeInstanceOf(MobiusError);
    expect(e).toMatchObject({ code: 'CHANNEL_GAP' });
    expect((e as Error).message).toContain('c1');
    expect((e as Error).message).toContain('sum#1');
    expect((e as Error).message).toContain('2..4');
  });

  it('a first frame that does not start at 0 is a gap too', () => {
    const { gate, senders } = gateOf(1);
    senders[0].trySend(data('c0', 1, 1));
    expect(thrown(() => gate.poll())).toMatchObject({ code: 'CHANNEL_GAP' });
  });

  it('a restored position (lastSeq) drops what came before it', () => {
    const { gate, senders } = gateOf(1);
    gate.lastSeq[0] = 9;
    senders[0].trySend(data('c0', 8, 4));
    expect(pollAll(gate)).toEqual([expect.objectContaining({ seq: 10, records: ['c0/10', 'c0/11'] })]);
  });
});

describe('InputGate.pollFrom (replay in the logged order)', () => {
  it('splits a frame: returns at most max records, and the next poll() returns the rest first', () => {
    const { gate, senders } = gateOf(2);
    senders[0].trySend(data('c0', 0, 5));
    senders[0].trySend(data('c0', 5, 1));
    senders[1].trySend(data('c1', 0, 1));
    const first = gate.pollFrom(0, 2)!;
    expect(first).toMatchObject({
      kind: 'data',
      seq: 0,
      count: 2,
      records: ['c0/0', 'c0/1'],
    });
    expect(gate.lastSeq[0]).toBe(1); // only what was taken counts as read
    expect(gate.lastIndex).toBe(0);
    // The rest of the frame comes before the channel's next frame.
    const second = gate.poll()!;
    expect(second).toMatchObject({
      channel: 'c0',
      seq: 2,
      records: ['c0/2', 'c0/3', 'c0/4'],
    });
    expect(gate.lastSeq[0]).toBe(4);
    expect(records(pollAll(gate))).toEqual(['c1/0', 'c0/5']);
  });

  it('splits the leftover again, then reads the next frame', () => {
    const { gate, senders } = gateOf(1);
    senders[0].trySend(data('c0', 0, 5));
    senders[0].trySend(data('c0', 5, 2));
    expect(gate.pollFrom(0, 2)?.records).toEqual(['c0/0', 'c0/1']);
    expect(gate.pollFrom(0, 1)?.records).toEqual(['c0/2']);
    expect(gate.lastSeq[0]).toBe(2);
    expect(gate.pollFrom(0, 10)?.records).toEqual(['c0/3', 'c0/4']);
    expect(gate.pollFrom(0, 10)?.records).toEqual(['c0/5', 'c0/6']);
    expect(gate.pollFrom(0, 10)).toBeUndefined();
    expect(gate.lastSeq[0]).toBe(6);
  });

  it('reads only the channel asked for, and de-duplicates what it reads', () => {
    const { gate, senders } = gateOf(2);
    senders[0].trySend(data('c0', 0, 1));
    expect(gate.pollFrom(1, 5)).toBeUndefined();
    senders[1].trySend(data('c1', 0, 3));
    senders[1].trySend(data('c1', 0, 4)); // a replay: 0..2 seen
    expect(gate.pollFrom(1, 5)?.records).toEqual(['c1/0', 'c1/1', 'c1/2']);
    expect(gate.lastIndex).toBe(1);
    expect(gate.pollFrom(1, 5)).toMatchObject({ seq: 3, records: ['c1/3'] });
    expect(records(pollAll(gate))).toEqual(['c0/0']);
  });

  it('a split records its leftover so that a replayed copy of it is dropped', () => {
    const { gate, senders } = gateOf(1);
    senders[0].trySend(data('c0', 0, 4));
    gate.pollFrom(0, 1);
    expect(gate.poll()?.records).toEqual(['c0/1', 'c0/2', 'c0/3']);
    senders[0].trySend(data('c0', 0, 4));
    senders[0].trySend(data('c0', 4, 1));
    expect(records(pollAll(gate))).toEqual(['c0/4']);
  });

  it('an ended channel, or one blocked behind an aligning barrier, diverges', () => {
    const ended = gateOf(1);
    ended.senders[0].trySend(end('c0', 0));
    expect(thrown(() => ended.gate.pollFrom(0, 1))).toMatchObject({
      code: 'DETERMINANTS_DIVERGED',
    });

    const blocked = gateOf(2);
    blocked.senders[0].trySend(barrierFrame('c0', 0, 3));
    expect(blocked.gate.poll()).toBeUndefined(); // c0 is blocked, aligning checkpoint 3
    expect(thrown(() => blocked.gate.pollFrom(0, 1))).toMatchObject({
      code: 'DETERMINANTS_DIVERGED',
    });
  });

  it('returns the barrier of a new checkpoint at once (the task declines it) and makes that checkpoint stale', () => {
    const { gate, senders } = gateOf(2, { determinantEntries: 10 });
    senders[0].trySend(barrierFrame('c0', 0, 4, [order(0)]));
    senders[0].trySend(data('c0', 0, 2));
    const frame = gate.pollFrom(0, 2);
    expect(frame).toMatchObject({ kind: 'barrier', barrier: barrier(4) });
    expect(gate.determinants![0].list()).toEqual([order(0)]); // its entries are kept
    // c0 is not blocked: the logged records behind the barrier come next.
    expect(gate.pollFrom(0, 2)?.records).toEqual(['c0/0', 'c0/1']);
    // The same checkpoint's barrier on the other channel is stale.
    senders[1].trySend(barrierFrame('c1', 0, 4));
    senders[1].trySend(data('c1', 0));
    expect(records(pollAll(gate))).toEqual(['c1/0']);
  });

  it('skips a stale barrier', () => {
    const { gate, senders } = gateOf(2);
    gate.skipCheckpointsThrough(2);
    senders[0].trySend(barrierFrame('c0', 0, 2));
    senders[0].trySend(data('c0', 0));
    expect(gate.pollFrom(0, 1)?.records).toEqual(['c0/0']);
  });
});
