import { describe, expect, it } from 'vitest';
import { InputGate } from './input-gate.js';
import { channelPair, settle, track } from './test-channels.js';
import { gateOf, barrier, data, barrierFrame, end, order, pollAll, records } from './test-input-gate.js';

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
