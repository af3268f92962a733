import { makeFrame, makeWatermarkFrame, type Frame } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { InputGate } from './input-gate.js';
import { channelPair, type TestSender } from './test-channels.js';

function gateOf(n: number): { gate: InputGate; senders: TestSender[] } {
  const pairs = Array.from({ length: n }, (_, i) => channelPair(`c${i}`, 64));
  return { gate: new InputGate(pairs.map((p) => p.receiver)), senders: pairs.map((p) => p.sender) };
}

const data = (channel: string, seq: number): Frame => makeFrame(channel, 'data', seq, [`${channel}/${seq}`]);
const wm = (channel: string, w: number | null): Frame => makeWatermarkFrame(channel, 0, w);
const barrier = (channel: string, id: number): Frame => makeFrame(channel, 'barrier', 0, null, { checkpointId: id, timestamp: 0, type: 'checkpoint' });

/** What the task sees: data as 'd:<channel>/<seq>', watermarks as 'w:<value>', barriers as 'b:<id>'. */
function pollAll(gate: InputGate): string[] {
  const out: string[] = [];
  for (let f = gate.poll(); f !== undefined; f = gate.poll()) {
    out.push(f.kind === 'data' ? `d:${f.channel}/${f.seq}` : f.kind === 'watermark' ? `w:${f.watermark}` : `b:${f.barrier!.checkpointId}`);
  }
  return out;
}

describe('InputGate: watermarks', () => {
  it('the input watermark is the minimum over the channels, handed over only when it rises', () => {
    const { gate, senders } = gateOf(2);
    senders[0].trySend(wm('c0', 10));
    expect(pollAll(gate)).toEqual([]); // c1 has none yet: the minimum is -Infinity
    expect(gate.watermark).toBe(-Infinity);
    senders[1].trySend(wm('c1', 4));
    expect(pollAll(gate)).toEqual(['w:4']);
    senders[1].trySend(wm('c1', 8));
    expect(pollAll(gate)).toEqual(['w:8']);
    senders[1].trySend(wm('c1', 20));
    expect(pollAll(gate)).toEqual(['w:10']);
    senders[0].trySend(wm('c0', 15));
    expect(pollAll(gate)).toEqual(['w:15']);
    expect(gate.watermark).toBe(15);
  });

  it('never goes backwards: a lower watermark of a channel changes nothing', () => {
    const { gate, senders } = gateOf(2);
    senders[0].trySend(wm('c0', 10));
    senders[1].trySend(wm('c1', 10));
    expect(pollAll(gate)).toEqual(['w:10']);
    senders[0].trySend(wm('c0', 3));
    expect(pollAll(gate)).toEqual([]);
    expect(gate.watermark).toBe(10);
  });

  it('an idle channel is left out of the minimum until its next watermark; a channel coming back lower does not lower it', () => {
    const { gate, senders } = gateOf(3);
    senders[0].trySend(wm('c0', 7));
    senders[1].trySend(wm('c1', 9));
    expect(pollAll(gate)).toEqual([]);
    senders[2].trySend(wm('c2', null)); // idle
    expect(pollAll(gate)).toEqual(['w:7']);
    senders[0].trySend(wm('c0', 12));
    expect(pollAll(gate)).toEqual(['w:9']);
    senders[2].trySend(wm('c2', 5)); // back, behind the others
    expect(pollAll(gate)).toEqual([]);
    senders[1].trySend(wm('c1', 30));
    expect(pollAll(gate)).toEqual([]);
    expect(gate.watermark).toBe(9);
    senders[2].trySend(wm('c2', 40));
    expect(pollAll(gate)).toEqual(['w:12']);
  });

  it('every channel idle: the watermark stays', () => {
    const { gate, senders } = gateOf(2);
    senders[0].trySend(wm('c0', 3));
    senders[1].trySend(wm('c1', 3));
    expect(pollAll(gate)).toEqual(['w:3']);
    senders[0].trySend(wm('c0', null));
    senders[1].trySend(wm('c1', null));
    expect(pollAll(gate)).toEqual([]);
    expect(gate.watermark).toBe(3);
  });

  it('an ended channel is left out', () => {
    const { gate, senders } = gateOf(2);
    senders[0].trySend(wm('c0', 50));
    senders[1].trySend(wm('c1', 2));
    expect(pollAll(gate)).toEqual(['w:2']);
    senders[1].trySend(makeFrame('c1', 'end', 0, null));
    expect(pollAll(gate)).toEqual(['w:50']);
  });

  it('a watermark is handed over before what its channel sent after it, and a barrier never overtakes it', () => {
    const { gate, senders } = gateOf(2);
    senders[1].trySend(wm('c1', 100));
    senders[0].trySend(data('c0', 0));
    senders[0].trySend(wm('c0', 5));
    senders[0].trySend(barrier('c0', 1));
    senders[0].trySend(data('c0', 1));
    senders[1].trySend(barrier('c1', 1));
    expect(pollAll(gate)).toEqual(['d:c0/0', 'w:5', 'b:1', 'd:c0/1']);
  });

  it('after a restore the watermark starts at the snapshot value and rises only above it', () => {
    const { gate, senders } = gateOf(2);
    gate.restoreWatermark(20);
    expect(gate.watermark).toBe(20);
    senders[0].trySend(wm('c0', 15));
    senders[1].trySend(wm('c1', 18));
    expect(pollAll(gate)).toEqual([]);
    senders[0].trySend(wm('c0', 25));
    senders[1].trySend(wm('c1', 22));
    expect(pollAll(gate)).toEqual(['w:22']);
  });
});
