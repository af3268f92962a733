import { MobiusError, makeFrame, type Barrier, type Determinant, type Frame } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { InputGate, type InputGateOptions } from './input-gate.js';
import { channelPair, settle, thrown, track, type TestChannel, type TestSender } from './test-channels.js';

function gateOf(n: number, options: InputGateOptions = {}): { gate: InputGate; channels: TestChannel[]; senders: TestSender[] } {
  const pairs = Array.from({ length: n }, (_, i) => channelPair(`c${i}`, 16));
  return {
    gate: new InputGate(
      pairs.map((p) => p.receiver),
      options
    ),
    channels: pairs.map((p) => p.channel),
    senders: pairs.map((p) => p.sender),
  };
}

const barrier = (checkpointId: number): Barrier => ({
  checkpointId,
  timestamp: 0,
  type: 'checkpoint',
});
/** A data frame whose records name their channel and sequence number. */
const data = (channel: string, seq: number, count = 1, determinants: readonly Determinant[] | null = null): Frame =>
  makeFrame(
    channel,
    'data',
    seq,
    Array.from({ length: count }, (_, i) => `${channel}/${seq + i}`),
    null,
    null,
    determinants
  );
const barrierFrame = (channel: string, seq: number, id: number, determinants: readonly Determinant[] | null = null): Frame =>
  makeFrame(channel, 'barrier', seq, null, barrier(id), null, determinants);
const end = (channel: string, seq: number, determinants: readonly Determinant[] | null = null): Frame =>
  makeFrame(channel, 'end', seq, null, null, null, determinants);
const order = (n: number, input = 0, count = 1): Determinant => ({
  n,
  kind: 'order',
  input,
  count,
  value: 0,
});

function pollAll(gate: InputGate): Frame[] {
  const out: Frame[] = [];
  for (let f = gate.poll(); f !== undefined; f = gate.poll()) out.push(f);
  return out;
}
const records = (frames: readonly Frame[]): unknown[] => frames.flatMap((f) => (f.kind === 'data' ? f.records! : [`barrier ${f.barrier?.checkpointId}`]));

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

describe('InputGate.replaceReceiver (the upstream task restarted)', () => {
  it('reads from the new receiver, closes the old one, and drops the replayed records already read', async () => {
    const { gate, senders, channels } = gateOf(2);
    senders[0].trySend(data('c0', 0, 2));
    senders[0].trySend(data('c0', 2, 1)); // never read: the upstream replays it
    expect(gate.poll()?.records).toEqual(['c0/0', 'c0/1']);
    const waiting = track(gate.whenReadable());
    const next = channelPair('c0@1', 16);
    gate.replaceReceiver(0, next.receiver);
    expect(channels[0].closed).toBe(true);
    await waiting.promise; // a task waiting for input looks again
    next.sender.trySend(data('c0@1', 0, 2));
    next.sender.trySend(data('c0@1', 2, 2));
    senders[1].trySend(data('c1', 0, 1));
    const frames = pollAll(gate);
    expect(records(frames.filter((f) => f.channel === 'c0@1'))).toEqual(['c0@1/2', 'c0@1/3']);
    expect(records(frames.filter((f) => f.channel === 'c1'))).toEqual(['c1/0']);
    expect(gate.lastSeq).toEqual([3, 0]);
  });

  it('drops a split leftover: the restarted upstream sends those records again', () => {
    const { gate, senders } = gateOf(1);
    senders[0].trySend(data('c0', 0, 4));
    gate.pollFrom(0, 1);
    const next = channelPair('c0@1', 16);
    gate.replaceReceiver(0, next.receiver);
    next.sender.trySend(data('c0@1', 0, 4));
    expect(records(pollAll(gate))).toEqual(['c0@1/1', 'c0@1/2', 'c0@1/3']);
  });

  it('wakes on frames of the new receiver only', async () => {
    const { gate, senders } = gateOf(1);
    const next = channelPair('c0@1', 16);
    gate.replaceReceiver(0, next.receiver);
    await settle();
    const waiting = track(gate.whenReadable());
    await settle();
    expect(waiting.done).toBe(false);
    expect(() => senders[0].trySend(data('c0', 0))).toThrow(); // the old channel is closed
    next.sender.trySend(data('c0@1', 0));
    await waiting.promise;
    expect(gate.poll()?.records).toEqual(['c0@1/0']);
  });

  it('on a channel that had ended: drains and drops what arrives (returning credit), keeping determinants', async () => {
    const { gate, senders } = gateOf(2, { determinantEntries: 100 });
    senders[0].trySend(data('c0', 0, 2, [order(0)]));
    senders[0].trySend(end('c0', 2, [order(1)]));
    expect(records(pollAll(gate))).toEqual(['c0/0', 'c0/1']);
    const next = channelPair('c0@1', 2);
    gate.replaceReceiver(0, next.receiver);
    for (const f of [data('c0@1', 0, 2, [order(0), order(1)]), end('c0@1', 2), data('c0@1', 99, 1, [order(2)])]) {
      // Each frame is taken as it comes: the channel (2 credits) never fills up.
      expect(next.sender.trySend(f)).toBe(true);
    }
    expect(next.channel.queued).toBe(0);
    expect(next.sender.credits).toBe(2);
    expect(pollAll(gate)).toEqual([]); // nothing reaches the task (no gap error either)
    expect(gate.determinants![0].list().map((d) => d.n)).toEqual([0, 1, 2]);
    senders[1].trySend(data('c1', 0));
    senders[1].trySend(end('c1', 1));
    expect(records(pollAll(gate))).toEqual(['c1/0']);
    expect(gate.finished).toBe(true);
  });

  it('an ended channel with a replacement does not count as open again', () => {
    const { gate, senders } = gateOf(1);
    senders[0].trySend(end('c0', 0));
    pollAll(gate);
    expect(gate.finished).toBe(true);
    const next = channelPair('c0@1', 4);
    gate.replaceReceiver(0, next.receiver);
    expect(gate.finished).toBe(true);
  });
});

describe('InputGate.hold (the upstream task is being recovered)', () => {
  it('does not read held channels until they are replaced; what the dead attempt left in them is dropped', () => {
    const { gate, senders, channels } = gateOf(2);
    senders[0].trySend(data('c0', 0, 2));
    expect(gate.poll()?.records).toEqual(['c0/0', 'c0/1']);
    senders[0].trySend(data('c0', 2, 2)); // left by the dead attempt
    gate.hold([0]);
    senders[1].trySend(data('c1', 0));
    expect(records(pollAll(gate))).toEqual(['c1/0']); // the other channel goes on
    expect(gate.pollFrom(0, 5)).toBeUndefined();
    expect(channels[0].queued).toBe(1);
    const next = channelPair('c0@1', 16);
    gate.replaceReceiver(0, next.receiver);
    next.sender.trySend(data('c0@1', 0, 3));
    next.sender.trySend(data('c0@1', 3, 1));
    expect(records(pollAll(gate))).toEqual(['c0@1/2', 'c0@1/3']);
  });

  it('a held channel keeps a split leftover unread too', () => {
    const { gate, senders } = gateOf(1);
    senders[0].trySend(data('c0', 0, 4));
    expect(gate.pollFrom(0, 1)?.records).toEqual(['c0/0']);
    gate.hold([0]);
    expect(gate.poll()).toBeUndefined();
    expect(gate.pollFrom(0, 3)).toBeUndefined();
    expect(gate.lastSeq).toEqual([0]);
  });
});

describe('InputGate.skipCheckpointsThrough', () => {
  it('unblocks a pending alignment of that checkpoint and makes its later barriers stale', async () => {
    const { gate, senders } = gateOf(2);
    senders[0].trySend(barrierFrame('c0', 0, 1));
    senders[0].trySend(data('c0', 0));
    expect(gate.poll()).toBeUndefined(); // c0 is blocked behind barrier 1, c1 has nothing
    const waiting = track(gate.whenReadable());
    gate.skipCheckpointsThrough(1);
    await waiting.promise;
    expect(gate.poll()?.records).toEqual(['c0/0']);
    // c1's barrier 1 arrives late: stale, it neither blocks c1 nor is returned.
    senders[1].trySend(barrierFrame('c1', 0, 1));
    senders[1].trySend(data('c1', 0));
    expect(records(pollAll(gate))).toEqual(['c1/0']);
    // A newer checkpoint aligns as usual.
    senders[0].trySend(barrierFrame('c0', 1, 2));
    senders[1].trySend(barrierFrame('c1', 1, 2));
    expect(records(pollAll(gate))).toEqual(['barrier 2']);
  });

  it('makes every barrier up to the id stale, before they arrive', () => {
    const { gate, senders } = gateOf(2);
    gate.skipCheckpointsThrough(3);
    for (const id of [1, 2, 3]) {
      senders[0].trySend(barrierFrame('c0', 0, id));
      senders[1].trySend(barrierFrame('c1', 0, id));
    }
    senders[0].trySend(data('c0', 0));
    expect(records(pollAll(gate))).toEqual(['c0/0']);
  });

  it('leaves a pending alignment of a newer checkpoint alone, and an older id changes nothing', () => {
    const { gate, senders } = gateOf(2);
    gate.skipCheckpointsThrough(2);
    senders[0].trySend(barrierFrame('c0', 0, 5));
    senders[0].trySend(data('c0', 0));
    expect(gate.poll()).toBeUndefined();
    gate.skipCheckpointsThrough(4);
    gate.skipCheckpointsThrough(1);
    expect(gate.poll()).toBeUndefined(); // still aligning 5
    senders[1].trySend(barrierFrame('c1', 0, 5));
    expect(records(pollAll(gate))).toEqual(['barrier 5', 'c0/0']);
  });
});

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
