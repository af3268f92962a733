import { serialize } from 'node:v8';
import { CheckpointError, type TaskSnapshot } from '@mobius/interface';
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { TASK_SNAPSHOT_FORMAT, TASK_SNAPSHOT_VERSION, decodeTaskSnapshot, encodeTaskSnapshot } from './task-snapshot-codec.js';

function sample(): TaskSnapshot {
  return {
    taskId: 'v1#0',
    checkpointId: 7,
    operators: {
      'reduce-1': {
        backend: 'level',
        operatorId: 'reduce-1',
        checkpointId: 7,
        keyGroups: { start: 0, end: 63 },
        groups: new Map([
          [-1, new Uint8Array([1, 2, 3])],
          [5, new Uint8Array([4])],
        ]),
        incremental: true,
        baseCheckpointId: 6,
      },
    },
    source: { offset: 12, file: 'a.txt', seen: new Set(['x', 'y']), at: new Date(1_700_000_000_000), big: 2n ** 70n, bytes: new Uint8Array([9, 8]), none: undefined },
    functions: {
      'sink-1': { pending: new Map<unknown, unknown>([[1, ['f1', 'f2']], ['k', new Map([['inner', 3]])]]), list: [undefined, 1, 'two'] },
    },
    inputs: { 'e1:0->0': 41 },
    outputs: { 'e2:0->1': 100 },
    writers: { e2: 3 },
    determinants: 17,
    watermark: 1234,
    timers: { 'reduce-1': [{ keyGroup: 5, key: 'k', domain: 'event', time: 99 }] },
    union: { 'map-2': { offsets: [{ partition: 3, offset: 10n }, new Map([['p', 1]])] } },
  };
}

describe('task snapshot codec', () => {
  it('round-trips every field, with Map, Set, Date, bigint, bytes and undefined inside user values', () => {
    const s = sample();
    const back = decodeTaskSnapshot(encodeTaskSnapshot(s));
    expect(back).toEqual(s);
    const source = back.source as { seen: Set<string>; at: Date; big: bigint; bytes: Uint8Array };
    expect(source.seen).toBeInstanceOf(Set);
    expect(source.at).toBeInstanceOf(Date);
    expect(typeof source.big).toBe('bigint');
    expect(source.bytes).toBeInstanceOf(Uint8Array);
    expect(Object.prototype.hasOwnProperty.call(back.source, 'none')).toBe(true);
    const pending = (back.functions!['sink-1'] as { pending: Map<unknown, unknown> }).pending;
    expect(pending).toBeInstanceOf(Map);
    expect(pending.get(1)).toEqual(['f1', 'f2']);
    expect(pending.get('k')).toBeInstanceOf(Map);
    expect(back.operators['reduce-1'].groups.get(-1)).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('is plain msgpack with a format name and a version that any msgpack reader sees', () => {
    const raw = new Unpackr({ useRecords: false }).unpack(encodeTaskSnapshot(sample())) as Record<string, unknown>;
    expect(raw.format).toBe(TASK_SNAPSHOT_FORMAT);
    expect(raw.version).toBe(TASK_SNAPSHOT_VERSION);
    expect(raw.taskId).toBe('v1#0');
    const op = (raw.operators as Record<string, { groups: [number, Uint8Array][] }>)['reduce-1'];
    expect(op.groups.map((g) => g[0])).toEqual([-1, 5]);
  });

  it('a snapshot without optional fields stays without them', () => {
    const s: TaskSnapshot = { taskId: 't#1', checkpointId: 1, operators: {}, inputs: {}, outputs: {} };
    expect(decodeTaskSnapshot(encodeTaskSnapshot(s))).toStrictEqual(s);
  });

  it('decodes a snapshot written before the msgpack format (V8 serialisation)', () => {
    const s = sample();
    const back = decodeTaskSnapshot(serialize(s));
    expect(back).toEqual(s);
    expect(back.operators['reduce-1'].groups).toBeInstanceOf(Map);
  });

  it('refuses garbage, a wrong shape and an unknown version with CHECKPOINT_CORRUPT', () => {
    const expectCorrupt = (bytes: Uint8Array): void => {
      try {
        decodeTaskSnapshot(bytes);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
        expect((e as CheckpointError).code).toBe('CHECKPOINT_CORRUPT');
      }
    };
    expectCorrupt(new Uint8Array([0xc1, 0xc1, 0xc1]));
    expectCorrupt(serialize({ nope: true }));
    expectCorrupt(new Uint8Array([0xff, 0x0f, 0x99]));
    const plain: TaskSnapshot = { taskId: 't#1', checkpointId: 1, operators: {}, inputs: {}, outputs: {} };
    const raw = new Unpackr({ useRecords: false }).unpack(encodeTaskSnapshot(plain)) as Record<string, unknown>;
    expectCorrupt(new Packr({ useRecords: false }).pack({ ...raw, version: TASK_SNAPSHOT_VERSION + 1 }));
    expectCorrupt(new Packr({ useRecords: false }).pack({ ...raw, format: 'other' }));
  });
});
