import { describe, expect, it } from 'vitest';
import { CollectBuffer } from './collect-buffer.js';

/** Reads every record of a buffer until its end. */
async function readAll<T>(buffer: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of buffer) out.push(r);
  return out;
}

describe('CollectBuffer', () => {
  it('hands records over in order of arrival, then ends', async () => {
    const buffer = new CollectBuffer<number>(1 << 20);
    const reading = readAll(buffer);
    for (let i = 0; i < 3000; i++) buffer.push(i);
    buffer.end();
    expect(await reading).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it('answers false once its byte bound is reached, and whenWritable() waits for the reader', async () => {
    // A number is estimated at 9 bytes: 10 of them reach a bound of 90.
    const buffer = new CollectBuffer<number>(90);
    const answers: boolean[] = [];
    for (let i = 0; i < 10; i++) answers.push(buffer.push(i));
    expect(answers).toEqual([true, true, true, true, true, true, true, true, true, false]);
    expect(buffer.bytes).toBe(90);
    let writable = false;
    const wait = buffer.whenWritable().then(() => (writable = true));
    await new Promise((r) => setImmediate(r));
    expect(writable).toBe(false);
    const it = buffer[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: 0 });
    await wait;
    expect(writable).toBe(true);
    expect(buffer.bytes).toBe(81);
  });

  it('delivers what it holds, then rejects with the failure', async () => {
    const buffer = new CollectBuffer<string>(1 << 20);
    buffer.push('a');
    buffer.push('b');
    const failure = new Error('task failed');
    buffer.fail(failure);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const r of buffer) seen.push(r);
      })(),
    ).rejects.toBe(failure);
    expect(seen).toEqual(['a', 'b']);
  });

  it('drops what it holds and releases waiting writers when the reader stops', async () => {
    const buffer = new CollectBuffer<number>(18);
    buffer.push(1);
    expect(buffer.push(2)).toBe(false);
    const wait = buffer.whenWritable();
    for await (const r of buffer) {
      expect(r).toBe(1);
      break;
    }
    await wait;
    expect(buffer.length).toBe(0);
    expect(buffer.push(3)).toBe(true); // taken and discarded: nobody reads
    expect(buffer.length).toBe(0);
  });

  it('can be read once', () => {
    const buffer = new CollectBuffer(10);
    buffer[Symbol.asyncIterator]();
    expect(() => buffer[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'COLLECT_ALREADY_READ' }));
  });
});
