import { makeFrame, type Frame } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { InputGate } from './input-gate.js';
import { channelPair, settle, track, type TestChannel, type TestSender } from './test-channels.js';

function gateOf(n: number, credits = 16): { gate: InputGate; channels: TestChannel[]; senders: TestSender[] } {
  const pairs = Array.from({ length: n }, (_, i) => channelPair(`c${i}`, credits));
  return { gate: new InputGate(pairs.map((p) => p.receiver)), channels: pairs.map((p) => p.channel), senders: pairs.map((p) => p.sender) };
}

const data = (channel: string, seq: number): Frame => makeFrame(channel, 'data', seq, [`${channel}/${seq}`]);
const end = (channel: string, seq: number): Frame => makeFrame(channel, 'end', seq, null);

function pollAll(gate: InputGate): Frame[] {
  const out: Frame[] = [];
  for (let f = gate.poll(); f !== undefined; f = gate.poll()) out.push(f);
  return out;
}

describe('InputGate', () => {
  it('takes frames round-robin across channels, one frame at a time', () => {
    const { gate, senders } = gateOf(3);
    for (let seq = 0; seq < 3; seq++) for (const s of senders) s.trySend(data(s.channel, seq));
    const order = pollAll(gate).map((f) => `${f.channel}/${f.seq}`);
    expect(order).toEqual(['c0/0', 'c1/0', 'c2/0', 'c0/1', 'c1/1', 'c2/1', 'c0/2', 'c1/2', 'c2/2']);
  });

  it('skips empty channels and keeps each channel in order', () => {
    const { gate, senders } = gateOf(3);
    senders[0].trySend(data('c0', 0));
    senders[0].trySend(data('c0', 1));
    senders[0].trySend(data('c0', 2));
    senders[2].trySend(data('c2', 0));
    expect(pollAll(gate).map((f) => `${f.channel}/${f.seq}`)).toEqual(['c0/0', 'c2/0', 'c0/1', 'c0/2']);
  });

  it('continues round-robin after the channel it last read from', () => {
    const { gate, senders } = gateOf(3);
    senders[1].trySend(data('c1', 0));
    expect(gate.poll()?.channel).toBe('c1');
    senders[0].trySend(data('c0', 0));
    senders[1].trySend(data('c1', 1));
    senders[2].trySend(data('c2', 0));
    // Next after c1 is c2, then c0, then c1.
    expect(pollAll(gate).map((f) => f.channel)).toEqual(['c2', 'c0', 'c1']);
  });

  it('swallows end markers and is finished only after every channel ended', () => {
    const { gate, senders } = gateOf(3);
    senders[0].trySend(data('c0', 0));
    senders[0].trySend(end('c0', 1));
    senders[1].trySend(end('c1', 0));
    const frames = pollAll(gate);
    expect(frames.map((f) => f.kind)).toEqual(['data']);
    expect(gate.finished).toBe(false);
    senders[2].trySend(data('c2', 0));
    expect(gate.poll()?.channel).toBe('c2');
    expect(gate.finished).toBe(false);
    senders[2].trySend(end('c2', 1));
    expect(gate.poll()).toBeUndefined();
    expect(gate.finished).toBe(true);
  });

  it('does not read a channel after its end marker', () => {
    const { gate, senders } = gateOf(2);
    senders[0].trySend(end('c0', 0));
    senders[0].trySend(data('c0', 0)); // a stray frame after the end
    senders[1].trySend(data('c1', 0));
    expect(pollAll(gate).map((f) => f.channel)).toEqual(['c1']);
  });

  it('passes barriers through (only end markers are swallowed)', () => {
    const { gate, senders } = gateOf(1);
    const barrier = makeFrame('c0', 'barrier', 0, null, { checkpointId: 1, timestamp: 0, type: 'checkpoint' });
    senders[0].trySend(barrier);
    expect(gate.poll()).toBe(barrier);
  });

  it('returns the credit of each polled frame to its sender', () => {
    const { gate, senders } = gateOf(1, 2);
    senders[0].trySend(data('c0', 0));
    senders[0].trySend(data('c0', 1));
    expect(senders[0].credits).toBe(0);
    gate.poll();
    expect(senders[0].credits).toBe(1);
  });

  it('whenReadable() resolves when a frame arrives on any channel', async () => {
    const { gate, senders } = gateOf(3);
    const readable = track(gate.whenReadable());
    await settle();
    expect(readable.done).toBe(false);
    senders[2].trySend(data('c2', 0));
    await readable.promise;
    expect(readable.done).toBe(true);
    expect(gate.poll()?.channel).toBe('c2');
  });

  it('whenReadable() resolves for an end marker too, after which the gate is finished', async () => {
    const { gate, senders } = gateOf(1);
    const readable = track(gate.whenReadable());
    await settle();
    expect(readable.done).toBe(false);
    senders[0].trySend(end('c0', 0));
    await readable.promise;
    expect(gate.poll()).toBeUndefined();
    expect(gate.finished).toBe(true);
  });

  it('wake() resolves a waiter without any frame', async () => {
    const { gate } = gateOf(2);
    const readable = track(gate.whenReadable());
    await settle();
    expect(readable.done).toBe(false);
    gate.wake();
    await readable.promise;
    expect(readable.done).toBe(true);
    expect(gate.poll()).toBeUndefined();
    expect(gate.finished).toBe(false);
  });

  it('a gate without channels is finished at once', () => {
    expect(new InputGate([]).finished).toBe(true);
  });

  it('close() closes every receiver', () => {
    const { gate, channels } = gateOf(3);
    gate.close();
    expect(channels.every((c) => c.closed)).toBe(true);
  });
});
