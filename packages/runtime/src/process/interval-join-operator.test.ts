import { ProcessError } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { prng } from '@mobius/testkit';
import { failureOf } from '../operators/test-operators.js';
import { IntervalJoinOperator } from './interval-join-operator.js';
import { harness, id, keyedStore, type Emitted } from './test-process.js';

type Rec = { k: number; ts: number; n: number };
type Buffer = [number, unknown][];

function join(lower: number, upper: number) {
  const left = keyedStore<Buffer>('left');
  const right = keyedStore<Buffer>('right');
  const fn = (l: Rec, r: Rec, ctx: { timestamp(): number; leftTimestamp(): number; rightTimestamp(): number }, out: { collect(v: unknown): void }) => {
    out.collect(`${l.n}|${r.n}|${ctx.leftTimestamp()}|${ctx.rightTimestamp()}|${ctx.timestamp()}`);
  };
  const op = new IntervalJoinOperator(id('j'), { lowerMs: lower, upperMs: upper, fn: fn as never }, left, right);
  return { h: harness(op, (r) => (r as [number, Rec])[1].k), op, left, right };
}

/** Every (left, right) pair of a key with l.ts + lower <= r.ts <= l.ts + upper: a nested loop. */
function reference(lefts: Rec[], rights: Rec[], lower: number, upper: number): string[] {
  const out: string[] = [];
  for (const l of lefts) for (const r of rights) if (l.k === r.k && l.ts + lower <= r.ts && r.ts <= l.ts + upper) out.push(`${l.n}|${r.n}|${l.ts}|${r.ts}|${Math.max(l.ts, r.ts)}`);
  return out.sort();
}

describe('IntervalJoinOperator', () => {
  for (const [lower, upper] of [
    [-5, 5],
    [0, 10],
    [-20, -3],
    [2, 2],
  ] as const) {
    it(`joins random out-of-order input as a nested loop does (between(${lower}, ${upper})), and its buffers empty at the end`, () => {
      const random = prng(lower * 31 + upper);
      const { h, left, right } = join(lower, upper);
      const lefts: Rec[] = [];
      const rights: Rec[] = [];
      const bound = 15; // the input is at most this much out of order
      let max = -Infinity;
      let n = 0;
      for (let i = 0; i < 600; i++) {
        const ts = Math.floor(i / 2) + Math.floor(random() * bound);
        const rec: Rec = { k: Math.floor(random() * 4), ts, n: n++ };
        const side = random() < 0.5 ? 0 : 1;
        (side === 0 ? lefts : rights).push(rec);
        h.push([side, rec], ts);
        if (ts > max) max = ts;
        if (i % 7 === 0) h.watermark(max - bound - 1);
      }
      const beforeEnd = left.size() + right.size();
      expect(beforeEnd).toBeGreaterThan(0);
      h.watermark(Infinity);
      const got = h.out.map((e: Emitted) => {
        const [text, ts] = e as [string, number];
        expect(ts).toBe(Number(text.split('|')[4])); // leaves with the larger timestamp
        return text;
      });
      expect(got.sort()).toEqual(reference(lefts, rights, lower, upper));
      expect(got.length).toBeGreaterThan(0);
      expect(left.size() + right.size()).toBe(0);
      expect(h.timers!.size).toBe(0);
    });
  }

  it('buffers are cleaned as the watermark passes what can still match', () => {
    const { h, left, right } = join(0, 10);
    h.push([0, { k: 1, ts: 100, n: 0 }], 100);
    h.push([1, { k: 1, ts: 100, n: 1 }], 100);
    expect(left.size() + right.size()).toBe(2);
    h.watermark(100); // the right record (ts - lower = 100) can no longer match a left one
    expect(right.size()).toBe(0);
    expect(left.size()).toBe(1);
    h.watermark(110);
    expect(left.size()).toBe(0);
  });

  it('records at or below the watermark are late: dropped and counted', () => {
    const { h, op } = join(-10, 10);
    h.push([0, { k: 1, ts: 50, n: 0 }], 50);
    h.watermark(40);
    h.push([1, { k: 1, ts: 40, n: 1 }], 40);
    h.push([1, { k: 1, ts: 41, n: 2 }], 41);
    expect(h.out.map((e) => e[0])).toEqual(['0|2|50|41|50']);
    expect(op.lateRecordsDropped).toBe(1);
  });

  it('a record without an event time is an INTERVAL_JOIN_NO_TIMESTAMP error naming the operator', () => {
    const { h } = join(0, 1);
    const e = failureOf(() => h.push([0, { k: 1, ts: 0, n: 0 }]));
    expect(e.cause).toBeInstanceOf(ProcessError);
    expect((e.cause as ProcessError).code).toBe('INTERVAL_JOIN_NO_TIMESTAMP');
    expect(e.message).toContain('j-name');
  });
});
