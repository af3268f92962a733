import { MobiusError, type Frame } from '@mobius/interface';
import { keyGroupOf, normalizeKey, taskIndexForKeyGroup } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { channelPair, thrown, type TestChannel } from '../test-channels.js';
import { ChannelOutput } from './channel-output.js';
import { TaskOutputs } from './task-outputs.js';
import { BroadcastWriter, CustomWriter, KeyGroupWriter, RoundRobinWriter, SingleChannelWriter } from './writers.js';

/** n channel outputs (batch size 1: every record is one frame, so the channels show the routing at once). */
function outputs(n: number): { outs: ChannelOutput[]; channels: TestChannel[] } {
  const owner = new TaskOutputs();
  const pairs = Array.from({ length: n }, (_, i) => channelPair(`e:0->${i}`, 1_000_000));
  return { outs: pairs.map((p) => owner.add(new ChannelOutput(p.channel.id, p.sender, 1, owner))), channels: pairs.map((p) => p.channel) };
}

const recordsOf = (ch: TestChannel): unknown[] => ch.sent.flatMap((f: Frame) => f.records ?? []);

describe('SingleChannelWriter', () => {
  it('sends every record to its one channel', () => {
    const { outs, channels } = outputs(1);
    const w = new SingleChannelWriter(outs[0]);
    for (const r of ['a', 'b', 'c']) w.collect(r);
    expect(recordsOf(channels[0])).toEqual(['a', 'b', 'c']);
  });
});

describe('RoundRobinWriter', () => {
  it('cycles through the channels starting at its start index', () => {
    const { outs, channels } = outputs(3);
    const w = new RoundRobinWriter(outs, 2);
    for (let i = 0; i < 9; i++) w.collect(i);
    expect(channels.map(recordsOf)).toEqual([
      [1, 4, 7],
      [2, 5, 8],
      [0, 3, 6],
    ]);
  });

  it('takes the start index modulo the number of channels', () => {
    const { outs, channels } = outputs(3);
    const w = new RoundRobinWriter(outs, 7); // task #7 upstream: starts at 7 % 3 = 1
    for (let i = 0; i < 4; i++) w.collect(i);
    expect(channels.map(recordsOf)).toEqual([[2], [0, 3], [1]]);
  });

  it('spreads records evenly', () => {
    const { outs, channels } = outputs(4);
    const w = new RoundRobinWriter(outs, 0);
    for (let i = 0; i < 1000; i++) w.collect(i);
    expect(channels.map((c) => recordsOf(c).length)).toEqual([250, 250, 250, 250]);
  });
});

describe('KeyGroupWriter', () => {
  const maxParallelism = 128;

  it('routes each record to the task owning its key group', () => {
    for (const n of [2, 3, 4, 7]) {
      const { outs, channels } = outputs(n);
      const selector = (r: { key: unknown }): unknown => r.key;
      const w = new KeyGroupWriter(outs, selector as (r: unknown) => unknown, maxParallelism);
      const keys: unknown[] = [];
      for (let i = 0; i < 200; i++) keys.push(`word-${i}`, i, i % 2 === 0, [`t${i % 5}`, i % 3], { a: i % 4 });
      keys.push(null, undefined, -0, 0, '');
      const records = keys.map((key, i) => ({ key, i }));
      for (const r of records) w.collect(r);
      for (let c = 0; c < n; c++) {
        for (const r of recordsOf(channels[c]) as { key: unknown }[]) {
          const expected = taskIndexForKeyGroup(keyGroupOf(normalizeKey(r.key), maxParallelism), n, maxParallelism);
          expect(c, `key ${JSON.stringify(r.key)} with ${n} channels`).toBe(expected);
        }
      }
      expect(channels.reduce((s, c) => s + recordsOf(c).length, 0)).toBe(records.length);
      // With this many keys every channel gets some.
      expect(channels.every((c) => recordsOf(c).length > 0)).toBe(true);
    }
  });

  it('sends equal keys to the same channel, composite keys compared by value', () => {
    const { outs, channels } = outputs(5);
    const w = new KeyGroupWriter(outs, ((r: { key: unknown }) => r.key) as (r: unknown) => unknown, maxParallelism);
    const keys = [['a', 1], { x: 1, y: 2 }, 'word', 42, -0];
    const equal = [['a', 1], { y: 2, x: 1 }, 'word', 42, 0];
    for (let round = 0; round < 3; round++) {
      keys.forEach((key, k) => w.collect({ key, k }));
      equal.forEach((key, k) => w.collect({ key, k }));
    }
    for (let k = 0; k < keys.length; k++) {
      const holding = channels.filter((c) => (recordsOf(c) as { k: number }[]).some((r) => r.k === k));
      expect(holding, `key ${JSON.stringify(keys[k])}`).toHaveLength(1);
      expect((recordsOf(holding[0]) as { k: number }[]).filter((r) => r.k === k)).toHaveLength(6);
    }
  });
});

describe('BroadcastWriter', () => {
  it('copies every record to every channel, in order', () => {
    const { outs, channels } = outputs(4);
    const w = new BroadcastWriter(outs);
    for (let i = 0; i < 5; i++) w.collect(i);
    for (const c of channels) expect(recordsOf(c)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('CustomWriter', () => {
  const target = 'operator "route" (map-3)';

  it('routes to the index the function returns, and passes the channel count', () => {
    const { outs, channels } = outputs(3);
    const seen: number[] = [];
    const w = new CustomWriter(
      outs,
      (r: unknown, n: number) => {
        seen.push(n);
        return (r as number) % n;
      },
      target,
    );
    for (let i = 0; i < 7; i++) w.collect(i);
    expect(channels.map(recordsOf)).toEqual([[0, 3, 6], [1, 4], [2, 5]]);
    expect(new Set(seen)).toEqual(new Set([3]));
  });

  it('routes to every index of a returned array (and nowhere for an empty one)', () => {
    const { outs, channels } = outputs(3);
    const w = new CustomWriter(outs, (r: unknown) => (r === 'all' ? [0, 1, 2] : r === 'none' ? [] : [2, 0]), target);
    w.collect('all');
    w.collect('two');
    w.collect('none');
    expect(channels.map(recordsOf)).toEqual([['all', 'two'], ['all'], ['all', 'two']]);
  });

  function expectInvalid(result: unknown, mentions: string): void {
    const { outs, channels } = outputs(3);
    const w = new CustomWriter(outs, () => result as number, target);
    const e = thrown(() => w.collect('r'));
    expect(e).toBeInstanceOf(MobiusError);
    expect((e as MobiusError).code).toBe('PARTITION_INVALID');
    expect((e as MobiusError).message).toContain(target);
    expect((e as MobiusError).message).toContain(mentions);
    if (!Array.isArray(result)) expect(channels.flatMap(recordsOf)).toEqual([]);
  }

  it('rejects an index out of range', () => {
    expectInvalid(3, '3');
    expectInvalid(-1, '-1');
    expectInvalid([0, 5], '5');
  });

  it('rejects a non-integer index', () => {
    expectInvalid(1.5, '1.5');
    expectInvalid(Number.NaN, 'NaN');
    expectInvalid(['1'], '1');
    expectInvalid([0.5], '0.5');
  });

  it('rejects results that are neither a number nor an array', () => {
    expectInvalid('1', 'string');
    expectInvalid(undefined, 'undefined');
    expectInvalid({ index: 1 }, 'object');
    expectInvalid(null, 'object');
  });
});
