import { RecordTypeError, makeFrame, registerType } from '@mobius/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { closeTransports, started } from './test-transports.js';

afterEach(closeTransports);

class Celsius {
  constructor(readonly degrees: number) {}
  fahrenheit(): number {
    return (this.degrees * 9) / 5 + 32;
  }
}
registerType(Celsius, 'memory-test.Celsius');

class Loose {
  readonly n = 1;
}

describe('MemoryTransport: serialize (runtime.serialize-local-channels)', () => {
  it('delivers decoded copies with the types a remote receiver gets', async () => {
    const t = await started('serialize-copies');
    const rx = t.openReceiver('c', { credits: 4 });
    const tx = t.openSender('c', t.endpoint, { credits: 4, serialize: true });
    const records = [{ temps: new Map([['mon', new Celsius(100)]]), tags: new Set(['a']), at: new Date(7) }];
    const sent = makeFrame('c', 'data', 0, records);
    expect(tx.trySend(sent)).toBe(true);
    const got = rx.poll()!;
    expect(got).not.toBe(sent);
    expect(got.records![0]).not.toBe(records[0]);
    expect(got).toStrictEqual(sent);
    const back = got.records![0] as (typeof records)[number];
    expect(back.temps.get('mon')).toBeInstanceOf(Celsius);
    expect(back.temps.get('mon')!.fahrenheit()).toBe(212);
  });

  it('refuses an unregistered class at the sender, sends nothing and keeps the credit', async () => {
    const t = await started('serialize-refuses');
    const rx = t.openReceiver('c', { credits: 2 });
    const tx = t.openSender('c', t.endpoint, { credits: 2, serialize: true });
    expect(() => tx.trySend(makeFrame('c', 'data', 0, [{ v: new Loose() }]))).toThrow(RecordTypeError);
    expect(rx.poll()).toBeUndefined();
    expect(tx.credits).toBe(2);
  });

  it('passes frames by reference without the option', async () => {
    const t = await started('serialize-off');
    const rx = t.openReceiver('c', { credits: 2 });
    const tx = t.openSender('c', t.endpoint, { credits: 2 });
    const frame = makeFrame('c', 'data', 0, [new Loose()]);
    expect(tx.trySend(frame)).toBe(true);
    expect(rx.poll()).toBe(frame);
  });

  it('without credit returns false and encodes nothing', async () => {
    const t = await started('serialize-credit');
    t.openReceiver('c', { credits: 1 });
    const tx = t.openSender('c', t.endpoint, { credits: 1, serialize: true });
    expect(tx.trySend(makeFrame('c', 'data', 0, [1]))).toBe(true);
    // A refused record would throw if it were encoded: without credit it is not.
    expect(tx.trySend(makeFrame('c', 'data', 1, [new Loose()]))).toBe(false);
  });
});
