import type { ChannelSender, Frame } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { channelPair, rejection, settle, track, type TestChannel, type TestReceiver } from '../test-channels.js';
import { ReplayBuffer } from '../failover/replay-buffer.js';
import { ChannelOutput } from './channel-output.js';
import { TaskOutputs } from './task-outputs.js';

function output(batchSize: number, credits = 64, id = 'e:0->0'): { out: ChannelOutput; outputs: TaskOutputs; channel: TestChannel; receiver: TestReceiver } {
  const { channel, sender, receiver } = channelPair(id, credits);
  const outputs = new TaskOutputs();
  const out = outputs.add(new ChannelOutput(id, sender, batchSize, outputs));
  return { out, outputs, channel, receiver };
}

function pollAll(receiver: TestReceiver): Frame[] {
  const frames: Frame[] = [];
  for (let f = receiver.poll(); f !== undefined; f = receiver.poll()) frames.push(f);
  return frames;
}

function push(out: ChannelOutput, from: number, to: number): void {
  for (let i = from; i < to; i++) out.push(i);
}

/** Checks the frames of a channel carry records 0..n-1 in order with continuous sequence numbers. */
function expectContinuous(frames: readonly Frame[], n: number): void {
  let seq = 0;
  for (const f of frames) {
    if (f.kind !== 'data') continue;
    expect(f.seq).toBe(seq);
    expect(f.count).toBe(f.records!.length);
    seq += f.count;
  }
  expect(frames.filter((f) => f.kind === 'data').flatMap((f) => f.records)).toEqual(Array.from({ length: n }, (_, i) => i));
}

describe('ChannelOutput: batching and sequence numbers', () => {
  it('sends a frame each time the batch is full and holds the rest', () => {
    const { out, receiver, outputs } = output(3);
    push(out, 0, 7);
    const frames = pollAll(receiver);
    expect(frames.map((f) => f.records)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(frames.every((f) => f.kind === 'data' && f.channel === 'e:0->0')).toBe(true);
    expect(outputs.recordsOut).toBe(6);
  });

  it('a frame holds exactly its records, whether the batch filled or was flushed early, in any order of the two', () => {
    const { out, receiver } = output(40);
    push(out, 0, 3);
    out.flush(); // a short frame: the next batch array is sized for it, then grows
    push(out, 3, 90);
    out.flush();
    push(out, 90, 91);
    out.flush();
    const frames = pollAll(receiver);
    expect(frames.map((f) => f.records!.length)).toEqual([3, 40, 40, 7, 1]);
    for (const f of frames) expect(Object.keys(f.records!).length).toBe(f.records!.length); // no holes
    expectContinuous(frames, 91);
  });

  it('numbers records across frames: frame k starts at the sum of the earlier counts', () => {
    const { out, receiver } = output(4);
    push(out, 0, 10);
    out.flush();
    push(out, 10, 11);
    out.flush();
    push(out, 11, 20);
    out.flush();
    const frames = pollAll(receiver);
    expect(frames.map((f) => [f.seq, f.count])).toEqual([
      [0, 4],
      [4, 4],
      [8, 2],
      [10, 1],
      [11, 4],
      [15, 4],
      [19, 1],
    ]);
    expectContinuous(frames, 20);
  });

  it('flush() sends a partial batch, and does nothing when the batch is empty', () => {
    const { out, receiver, outputs } = output(100);
    out.flush();
    expect(pollAll(receiver)).toEqual([]);
    push(out, 0, 3);
    expect(pollAll(receiver)).toEqual([]);
    out.flush();
    const frames = pollAll(receiver);
    expect(frames).toHaveLength(1);
    expect(frames[0].records).toEqual([0, 1, 2]);
    expect(outputs.recordsOut).toBe(3);
  });

  it('end() sends the held records, then an end frame carrying the next sequence number', () => {
    const { out, receiver } = output(4);
    push(out, 0, 6);
    out.end();
    const frames = pollAll(receiver);
    expect(frames.map((f) => f.kind)).toEqual(['data', 'data', 'end']);
    expect(frames[1].records).toEqual([4, 5]);
    const last = frames[2];
    expect(last.seq).toBe(6);
    expect(last.count).toBe(0);
    expect(last.records).toBeNull();
  });

  it('end() on an empty channel sends only the end frame, at sequence 0', () => {
    const { out, receiver } = output(4);
    out.end();
    expect(pollAll(receiver).map((f) => [f.kind, f.seq])).toEqual([['end', 0]]);
  });

  it('close() closes the sender', () => {
    const { out, channel } = output(4);
    const sender = (out as unknown as { sender: ChannelSender }).sender;
    out.close();
    expect((sender as unknown as { closed: boolean }).closed).toBe(true);
    expect(channel.closed).toBe(false); // the receiver owns the queue
  });
});

describe('ChannelOutput: credits and the outbox', () => {
  it('with 2 credits and a receiver that does not poll, sends 2 frames and holds the rest', async () => {
    const { out, outputs, channel, receiver } = output(2, 2);
    push(out, 0, 10); // 5 full batches
    expect(channel.sent).toHaveLength(2);
    expect(channel.queued).toBe(2);
    expect(out.queuedFrames).toBe(3);
    expect(outputs.queuedFrames).toBe(3);
    expect(outputs.backlog).toBeGreaterThan(0);

    const drained = track(outputs.whenDrained());
    await settle();
    expect(drained.done).toBe(false);
    expect(channel.sent).toHaveLength(2); // still nothing more without credit

    // Each poll returns one credit, and the pump sends one more frame.
    const received: Frame[] = [receiver.poll()!];
    await settle();
    expect(channel.sent).toHaveLength(3);
    expect(out.queuedFrames).toBe(2);
    expect(drained.done).toBe(false);

    while (!drained.done) {
      const f = receiver.poll();
      if (f !== undefined) received.push(f);
      await settle();
    }
    received.push(...pollAll(receiver));
    expect(outputs.backlog).toBe(0);
    expect(outputs.queuedFrames).toBe(0);
    expect(channel.maxQueued).toBeLessThanOrEqual(2);
    expectContinuous(received, 10);
    expect(outputs.recordsOut).toBe(10);
  });

  it('keeps the end frame behind data that waits for credit', async () => {
    const { out, outputs, receiver } = output(1, 1);
    push(out, 0, 3);
    out.end();
    const received: Frame[] = [];
    const drained = track(outputs.whenDrained());
    while (!drained.done) {
      const f = receiver.poll();
      if (f !== undefined) received.push(f);
      await settle();
    }
    received.push(...pollAll(receiver));
    expect(received.map((f) => `${f.kind}@${f.seq}`)).toEqual(['data@0', 'data@1', 'data@2', 'end@3']);
  });

  it('new records queue behind the outbox rather than overtaking it', async () => {
    const { out, outputs, receiver } = output(1, 1);
    push(out, 0, 3); // frame 0 sent, frames 1 and 2 wait
    receiver.poll(); // a credit returns, but the pump has not run yet
    push(out, 3, 4); // must not jump the queue
    const received: Frame[] = [];
    const drained = track(outputs.whenDrained());
    while (!drained.done) {
      const f = receiver.poll();
      if (f !== undefined) received.push(f);
      await settle();
    }
    received.push(...pollAll(receiver));
    expect(received.flatMap((f) => f.records)).toEqual([1, 2, 3]);
  });

  it('whenDrained() resolves at once when nothing waits', async () => {
    const { outputs } = output(2, 2);
    await expect(outputs.whenDrained()).resolves.toBeUndefined();
  });

  it('stop() wakes a waiter and stops pumping', async () => {
    const { out, outputs, channel, receiver } = output(1, 1);
    push(out, 0, 4);
    const drained = track(outputs.whenDrained());
    await settle();
    expect(drained.done).toBe(false);
    outputs.stop();
    await drained.promise;
    receiver.poll();
    await settle();
    expect(channel.sent).toHaveLength(1); // nothing pumped after stop
    expect(outputs.queuedFrames).toBe(0); // the dropped frames are no longer counted
    expect(outputs.backlog).toBe(0);
  });

  it('whenDrained() rejects when a channel fails to send, even while another still waits for credit', async () => {
    const outputs = new TaskOutputs();
    const failure = new Error('peer lost');
    const broken: ChannelSender = {
      channel: 'broken',
      credits: 0,
      trySend: () => false,
      whenWritable: () => Promise.reject(failure),
      close: () => undefined,
    };
    const a = outputs.add(new ChannelOutput('broken', broken, 1, outputs));
    const { channel, sender } = channelPair('slow', 1);
    const b = outputs.add(new ChannelOutput('slow', sender, 1, outputs));
    b.push('x');
    b.push('y'); // waits: the receiver of 'slow' never polls
    a.push('z'); // fails in the pump
    expect(channel.queued).toBe(1);
    const drained = track(outputs.whenDrained());
    for (let i = 0; i < 5 && !drained.done; i++) await settle();
    expect(drained.done).toBe(true);
    expect(await rejection(drained.promise)).toBe(failure);
    expect(await rejection(outputs.whenDrained())).toBe(failure);
    expect(b.queuedFrames).toBe(1); // 'y' still waits for credit on the healthy channel
  });
});

describe('TaskOutputs', () => {
  it('flushAll() and endAll() apply to every channel', () => {
    const outputs = new TaskOutputs();
    const pairs = [channelPair('a', 8), channelPair('b', 8)];
    const outs = pairs.map((p) => outputs.add(new ChannelOutput(p.channel.id, p.sender, 10, outputs)));
    outs[0].push(1);
    outs[1].push(2);
    outputs.flushAll();
    expect(pairs.map((p) => p.channel.sent.map((f) => f.records))).toEqual([[[1]], [[2]]]);
    outputs.endAll();
    expect(pairs.map((p) => p.channel.sent.map((f) => f.kind))).toEqual([
      ['data', 'end'],
      ['data', 'end'],
    ]);
    expect(outputs.channels).toEqual(outs);
    outputs.closeAll();
    expect(pairs.every((p) => p.sender.closed)).toBe(true);
  });
});

describe('ChannelOutput with a replay buffer: run-ahead beyond credit', () => {
  function replayOutput(runAhead: boolean): { out: ChannelOutput; outputs: TaskOutputs } {
    const { sender } = channelPair('r', 1);
    const outputs = new TaskOutputs();
    const out = outputs.add(new ChannelOutput('r', sender, 1, outputs, new ReplayBuffer(1 << 20), runAhead));
    return { out, outputs };
  }

  it('by default keeps taking output while a slow receiver holds its credit, up to half the buffer', () => {
    const { out, outputs } = replayOutput(true);
    push(out, 0, 3); // one frame sent, two wait for credit
    expect(out.queuedFrames).toBe(2);
    expect(outputs.blocked).toBe(0);
  });

  it('without run-ahead stops the task as soon as a frame waits for credit', () => {
    const { out, outputs } = replayOutput(false);
    push(out, 0, 2);
    expect(out.queuedFrames).toBe(1);
    expect(outputs.blocked).toBe(1);
  });
});
