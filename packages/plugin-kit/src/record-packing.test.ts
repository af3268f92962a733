import { RecordTypeError, makeFrame, registerType } from '@mobius/interface';
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MsgpackCodec } from './msgpack-codec.js';

const codec = new MsgpackCodec();
const roundTrip = (records: unknown[]): unknown[] => [...codec.decode(codec.encode(makeFrame('c', 'data', 0, records))).records!];

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}
registerType(Point);

class Money {
  constructor(
    readonly cents: bigint,
    readonly currency: string,
  ) {}
  toString(): string {
    return `${this.cents} ${this.currency}`;
  }
}
let moneyDecodes = 0;
registerType(Money, {
  name: 'test.Money',
  encode: (m) => `${m.cents}:${m.currency}`,
  decode: (data) => {
    moneyDecodes++;
    const [cents, currency] = String(data).split(':');
    return new Money(BigInt(cents), currency);
  },
});

class Unregistered {
  constructor(readonly v = 1) {}
}

function refused(records: unknown[]): RecordTypeError {
  try {
    codec.encode(makeFrame('c', 'data', 0, records));
  } catch (e) {
    expect(e).toBeInstanceOf(RecordTypeError);
    return e as RecordTypeError;
  }
  throw new Error('encode accepted the records');
}

describe('record types across the codec', () => {
  it('keeps Map, Set, Date, bigint, typed arrays, undefined, NaN, -0 and Infinity, nested in each other', () => {
    const sample = () => ({
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, new Set(['x', new Date(5)])],
        [{ k: 1 }, [undefined, -0]],
      ]),
      set: new Set<unknown>([1, 'two', new Map([[3n, new Uint8Array([9])]])]),
      date: new Date(1_700_000_000_123),
      big: 2n ** 100n,
      negBig: -(2n ** 70n),
      small: -5n,
      bytes: new Uint8Array([0, 255, 7]),
      floats: new Float64Array([1.5, -0, NaN]),
      ints: new Int32Array([-1, 2, 2 ** 31 - 1]),
      u16: new Uint16Array([65535]),
      clamped: new Uint8ClampedArray([3]),
      bigints: new BigInt64Array([-(2n ** 63n)]),
      none: undefined,
      nan: NaN,
      negZero: -0,
      inf: Infinity,
      negInf: -Infinity,
      deep: [[new Map([['in', [new Set([-0])]]])]],
    });
    const [back] = roundTrip([sample()]) as [ReturnType<typeof sample>];
    // toStrictEqual compares Map/Set contents, typed array classes and -0 against 0 (Object.is).
    expect(back).toStrictEqual(sample());
    expect(back.map).toBeInstanceOf(Map);
    expect(back.set).toBeInstanceOf(Set);
    expect(back.floats).toBeInstanceOf(Float64Array);
    expect(Object.is(back.negZero, -0)).toBe(true);
    expect('none' in back).toBe(true);
  });

  it('keeps top-level special values and record order', () => {
    const records = [-0, new Set([1]), 'plain', undefined, NaN, new Map(), 3n];
    const back = roundTrip(records);
    expect(back).toStrictEqual(records);
    expect(Object.is(back[0], -0)).toBe(true);
  });

  it('leaves plain records untouched (no copy) and sends them as plain msgpack', () => {
    const records = [['w', 1], { a: 'b', n: 2, nested: [1, 'x', null, true] }];
    expect(roundTrip(records)).toStrictEqual(records);
    const plain = new Unpackr({ useRecords: false }).unpack(codec.encode(makeFrame('c', 'data', 0, records)) as Buffer) as unknown[];
    expect(plain[4]).toStrictEqual(records);
  });

  it('writes Map and Set as msgpack extensions 0x4d and 0x53 whose payload is a msgpack array', () => {
    const bytes = codec.encode(makeFrame('c', 'data', 0, [new Map([['k', 1]])]));
    // ext 8 (0xc7), length 4, type 'M', then the array ["k", 1]: fixarray 2, fixstr "k", 1.
    expect(Buffer.from(bytes).includes(Buffer.from([0xc7, 4, 0x4d, 0x92, 0xa1, 0x6b, 0x01]))).toBe(true);
    const setBytes = codec.encode(makeFrame('c', 'data', 0, [new Set([1])]));
    expect(Buffer.from(setBytes).includes(Buffer.from([0xc7, 2, 0x53, 0x91, 0x01]))).toBe(true);
  });

  it('restores a registered class: instanceof holds and its methods work', () => {
    const [p] = roundTrip([new Point(3, 4)]) as [Point];
    expect(p).toBeInstanceOf(Point);
    expect(p.norm()).toBe(5);
    expect(p).toStrictEqual(new Point(3, 4));
  });

  it('restores registered classes nested in maps, sets and arrays', () => {
    const records = [{ byName: new Map([['p', new Point(1, 2)]]), all: new Set([new Point(0, 1)]), list: [new Point(2, 2)] }];
    const [back] = roundTrip(records) as [(typeof records)[number]];
    expect(back.byName.get('p')).toBeInstanceOf(Point);
    expect([...back.all][0].norm()).toBe(1);
    expect(back).toStrictEqual(records[0]);
  });

  it('uses a registered custom codec, by its wire name', () => {
    const before = moneyDecodes;
    const [m] = roundTrip([new Money(1234n, 'EUR')]) as [Money];
    expect(m).toBeInstanceOf(Money);
    expect(m.toString()).toBe('1234 EUR');
    expect(moneyDecodes).toBe(before + 1);
    const raw = Buffer.from(codec.encode(makeFrame('c', 'data', 0, [new Money(1n, 'X')])));
    expect(raw.includes(Buffer.from('test.Money'))).toBe(true);
  });

  it('refuses an unregistered class instance, naming the class, where it sits and how to register it', () => {
    const e = refused([{ ok: 1 }, { inner: [new Unregistered()] }]);
    expect(e.code).toBe('RECORD_TYPE_UNSUPPORTED');
    expect(e.typeName).toBe('Unregistered');
    expect(e.message).toContain('records[1].inner[0]');
    expect(e.message).toContain('registerType(Unregistered)');
  });

  it('refuses a function field, a symbol and built-ins with no wire form', () => {
    const fn = refused([{ cb: function callback() {} }]);
    expect(fn.code).toBe('RECORD_TYPE_UNSUPPORTED');
    expect(fn.typeName).toBe('function');
    expect(fn.message).toContain('records[0].cb');
    expect(refused([Symbol('s')]).typeName).toBe('symbol');
    const weak = refused([{ w: new WeakMap() }]);
    expect(weak.typeName).toBe('WeakMap');
    expect(weak.message).toContain('built-in WeakMap');
    expect(refused([Promise.resolve(1)]).typeName).toBe('Promise');
    expect(refused([new Map([['k', () => 1]])]).typeName).toBe('function');
  });

  it('refuses a subclass of a registered class that is not registered itself', () => {
    class Point3 extends Point {}
    expect(refused([new Point3(1, 1)]).typeName).toBe('Point3');
  });

  it('stays usable after refusing a record', () => {
    refused([new Unregistered()]);
    expect(roundTrip([new Point(1, 0)])).toStrictEqual([new Point(1, 0)]);
  });

  it('fails decoding a class name this process never registered with RECORD_TYPE_UNKNOWN', () => {
    class Ghost {
      a = 1;
    }
    registerType(Ghost, 'test.Ghost');
    const bytes = codec.encode(makeFrame('c', 'data', 0, [new Ghost()]));
    const mangled = Buffer.from(bytes).toString('latin1').replace('test.Ghost', 'test.Ghozt');
    expect(() => codec.decode(Buffer.from(mangled, 'latin1'))).toThrow(expect.objectContaining({ code: 'RECORD_TYPE_UNKNOWN' }));
  });
});
