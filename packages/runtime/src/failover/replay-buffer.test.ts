import { makeFrame, type Barrier, type Determinant, type Frame } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { estimateBytes, estimateFrameBytes, ReplayBuffer } from './replay-buffer.js';

const barrier = (checkpointId: number): Barrier => ({
  checkpointId,
  timestamp: 0,
  type: 'checkpoint',
});
const data = (seq: number, records: readonly unknown[], channel = 'ch'): Frame => makeFrame(channel, 'data', seq, records);
const barrierFrame = (seq: number, checkpointId: number, channel = 'ch'): Frame => makeFrame(channel, 'barrier', seq, null, barrier(checkpointId));
const describeFrames = (frames: readonly Frame[]): string[] =>
  frames.map((f) =>
    f.kind === 'data' ? `data ${f.seq}+${f.count}` : f.kind === 'barrier' ? `barrier ${f.barrier!.checkpointId}@${f.seq}` : `${f.kind} ${f.seq}`
  );

describe('ReplayBuffer: keeping and trimming', () => {
  it('keeps every frame until a checkpoint completes, then drops what came before its barrier (and the barrier)', () => {
    const buffer = new ReplayBuffer(1 << 20);
    buffer.add(data(0, [1, 2]));
    buffer.add(data(2, [3, 4]));
    buffer.add(barrierFrame(4, 1));
    buffer.add(data(4, [5]));
    buffer.add(data(5, [6, 7]));
    expect(buffer.size).toBe(5);
    expect(describeFrames(buffer.framesFor('ch'))).toEqual(['data 0+2', 'data 2+2', 'barrier 1@4', 'data 4+1', 'data 5+2']);

    buffer.trim(1);
    // What came after the barrier stays: a downstream task restored at checkpoint 1 needs it.
    expect(describeFrames(buffer.framesFor('ch'))).toEqual(['data 4+1', 'data 5+2']);
    expect(buffer.framesFor('ch').map((f) => f.records)).toEqual([[5], [6, 7]]);
    expect(buffer.size).toBe(2);
    expect(buffer.replayable).toBe(true);
  });

  it('the byte count follows what is kept', () => {
    const buffer = new ReplayBuffer(1 << 20);
    const frames = [data(0, [1, 2]), barrierFrame(2, 1), data(2, ['abc'])];
    const sizes = frames.map((f) => buffer.add(f));
    expect(sizes).toEqual(frames.map(estimateFrameBytes));
    expect(buffer.byteSize).toBe(sizes[0] + sizes[1] + sizes[2]);
    buffer.trim(1);
    expect(buffer.byteSize).toBe(sizes[2]);
  });

  it('trimming an unknown checkpoint changes nothing; a later checkpoint trims through the earlier ones', () => {
    const buffer = new ReplayBuffer(1 << 20);
    buffer.add(data(0, [1]));
    buffer.add(barrierFrame(1, 1));
    buffer.add(data(1, [2]));
    buffer.add(barrierFrame(2, 2));
    buffer.add(data(2, [3]));
    buffer.trim(9);
    expect(buffer.size).toBe(5);
    buffer.trim(2); // checkpoint 1's notification was missed: 2 covers it
    expect(describeFrames(buffer.framesFor('ch'))).toEqual(['data 2+1']);
    buffer.trim(1); // late and stale: nothing left to trim before it, nothing after it is dropped
    expect(describeFrames(buffer.framesFor('ch'))).toEqual(['data 2+1']);
  });

  it('keeps end markers for replay', () => {
    const buffer = new ReplayBuffer(1 << 20);
    buffer.add(data(0, [1]));
    buffer.add(barrierFrame(1, 1));
    buffer.add(data(1, [2]));
    buffer.add(makeFrame('ch', 'end', 2, null));
    buffer.trim(1);
    expect(describeFrames(buffer.framesFor('ch'))).toEqual(['data 1+1', 'end 2']);
  });
});

describe('ReplayBuffer: bounded', () => {
  it('over maxBytes drops the oldest frames and is not replayable until a checkpoint whose barrier came after them completes', () => {
    const frame = (seq: number): Frame => data(seq, [seq, seq + 1]);
    const size = estimateFrameBytes(frame(0));
    // A barrier frame is smaller than a data frame: room for four data frames holds the first
    // barrier and three data frames, and a fourth data frame pushes out only the barrier.
    expect(estimateFrameBytes(barrierFrame(0, 1))).toBeLessThan(size);
    const buffer = new ReplayBuffer(4 * size);
    buffer.add(barrierFrame(0, 1));
    buffer.add(frame(0));
    buffer.add(frame(2));
    buffer.add(frame(4));
    expect(buffer.dropped).toBe(0);
    expect(buffer.replayable).toBe(true);

    buffer.add(frame(6)); // over: the barrier goes first (no record lost yet)...
    expect(buffer.dropped).toBe(1);
    expect(buffer.replayable).toBe(true);
    buffer.add(frame(8)); // ...then records 0 and 1
    expect(buffer.dropped).toBe(2);
    expect(buffer.replayable).toBe(false);
    expect(buffer.byteSize).toBeLessThanOrEqual(buffer.maxBytes);
    expect(describeFrames(buffer.framesFor('ch'))).toEqual(['data 2+2', 'data 4+2', 'data 6+2', 'data 8+2']);

    // Checkpoint 1's barrier (at 0) came before the dropped records: a restore at 1 would miss them.
    buffer.trim(1);
    expect(buffer.replayable).toBe(false);
    expect(buffer.size).toBe(4);

    // Checkpoint 2's barrier comes after record 5; records 2..5 are dropped on the way.
    buffer.add(barrierFrame(10, 2));
    expect(buffer.replayable).toBe(false);
    buffer.add(data(10, [10, 11]));
    buffer.trim(2);
    expect(buffer.replayable).toBe(true);
    expect(describeFrames(buffer.framesFor('ch'))).toEqual(['data 10+2']);
  });

  it('a single frame bigger than the buffer is not kept, and the channel is not replayable', () => {
    const buffer = new ReplayBuffer(100);
    buffer.add(data(0, ['x'.repeat(500)]));
    expect(buffer.size).toBe(0);
    expect(buffer.byteSize).toBe(0);
    expect(buffer.replayable).toBe(false);
    buffer.add(barrierFrame(1, 1));
    buffer.trim(1);
    expect(buffer.replayable).toBe(true);
  });

  it('with maxBytes 0 nothing is kept', () => {
    const buffer = new ReplayBuffer(0);
    buffer.add(data(0, [1]));
    expect(buffer.size).toBe(0);
    expect(buffer.replayable).toBe(false);
  });

  it('stays correct past its compaction threshold', () => {
    const buffer = new ReplayBuffer(estimateFrameBytes(data(0, [0])) * 10);
    for (let i = 0; i < 5000; i++) buffer.add(data(i, [i]));
    expect(buffer.size).toBe(10);
    expect(buffer.framesFor('ch').map((f) => f.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 4990 + i));
    expect(buffer.dropped).toBe(4990);
  });
});

describe('ReplayBuffer.framesFor', () => {
  it('relabels frames for the new channel id, keeping sequence numbers, records, barriers and determinants', () => {
    const determinants: Determinant[] = [{ n: 3, kind: 'order', input: 1, count: 2, value: 0 }];
    const buffer = new ReplayBuffer(1 << 20);
    const original = [
      makeFrame('job/0.0/e:0->0', 'data', 7, ['a', 'b'], null, null, determinants),
      makeFrame('job/0.0/e:0->0', 'barrier', 9, null, barrier(4)),
    ];
    for (const f of original) buffer.add(f);
    const frames = buffer.framesFor('job/0.1/e:0->0');
    expect(frames).toHaveLength(2);
    expect(frames.every((f) => f.channel === 'job/0.1/e:0->0')).toBe(true);
    expect(frames[0]).toMatchObject({
      kind: 'data',
      seq: 7,
      count: 2,
      records: ['a', 'b'],
      determinants,
    });
    expect(frames[1]).toMatchObject({
      kind: 'barrier',
      seq: 9,
      barrier: barrier(4),
    });
    // Same id: the frames themselves.
    expect(buffer.framesFor('job/0.0/e:0->0')).toEqual(original);
    expect(buffer.framesFor('job/0.0/e:0->0')[0]).toBe(original[0]);
  });
});

describe('estimateBytes', () => {
  it('sizes strings by their length', () => {
    expect(estimateBytes('')).toBeLessThan(estimateBytes('a'.repeat(100)));
    const big = estimateBytes('a'.repeat(10_000));
    expect(big).toBeGreaterThanOrEqual(10_000);
    expect(big).toBeLessThan(10_100);
  });

  it('sizes scalars as small constants', () => {
    for (const v of [0, 1.5, true, undefined, null, 10n]) {
      expect(estimateBytes(v)).toBeGreaterThan(0);
      expect(estimateBytes(v)).toBeLessThanOrEqual(16);
    }
  });

  it('sizes arrays by their length times a sampled element', () => {
    expect(estimateBytes([])).toBeLessThan(16);
    const ten = estimateBytes(Array.from({ length: 10 }, (_, i) => i));
    const thousand = estimateBytes(Array.from({ length: 1000 }, (_, i) => i));
    expect(thousand).toBeGreaterThan(90 * ten);
    expect(thousand).toBeLessThan(110 * ten);
    // Strings of 100 characters: about 100 bytes each.
    const strings = estimateBytes(Array.from({ length: 50 }, () => 'x'.repeat(100)));
    expect(strings).toBeGreaterThanOrEqual(5000);
    expect(strings).toBeLessThan(6000);
  });

  it('sizes typed arrays by their bytes', () => {
    const v = estimateBytes(new Uint8Array(4096));
    expect(v).toBeGreaterThanOrEqual(4096);
    expect(v).toBeLessThan(4200);
  });

  it('sizes objects by their keys and values, nested', () => {
    const flat = estimateBytes({ id: 1, name: 'x'.repeat(200) });
    expect(flat).toBeGreaterThan(200);
    expect(flat).toBeLessThan(300);
    const nested = estimateBytes({
      user: { id: 1, name: 'x'.repeat(200) },
      tags: ['a'.repeat(100), 'b'.repeat(100)],
    });
    expect(nested).toBeGreaterThan(flat + 200);
    expect(nested).toBeLessThan(flat + 400);
    // Deep or cyclic values stay bounded.
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(Number.isFinite(estimateBytes(cyclic))).toBe(true);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100; i++) deep = { child: deep };
    expect(estimateBytes(deep)).toBeLessThan(200);
  });

  it('sizes a frame from its first record', () => {
    const records = Array.from({ length: 100 }, () => ({ k: 'x'.repeat(50) }));
    const bytes = estimateFrameBytes(makeFrame('ch', 'data', 0, records));
    expect(bytes).toBeGreaterThan(100 * 50);
    expect(bytes).toBeLessThan(100 * 80);
    expect(estimateFrameBytes(makeFrame('ch', 'end', 0, null))).toBeGreaterThan(0);
  });
});
