import type { ControlMessage } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { CollectStore } from './collect-store.js';

const batch = (records: unknown[], taskIndex = 0): Extract<ControlMessage, { type: 'collect' }> => ({ type: 'collect', jobId: 'job', collectId: 'collect-2', taskIndex, records });

describe('CollectStore', () => {
  it('serves records by offset; a read from n drops what came before n', async () => {
    const store = new CollectStore();
    expect(await store.accept(batch([1, 2, 3]), 1000)).toEqual({ type: 'ok' });
    expect(await store.accept(batch([4, 5], 1), 1000)).toEqual({ type: 'ok' });
    expect(store.read('job', 'collect-2', 0, 3)).toEqual({ collectId: 'collect-2', records: [1, 2, 3], next: 3 });
    // The client lost the reply: asking from 0 again gives the same records.
    expect(store.read('job', 'collect-2', 0, 3).records).toEqual([1, 2, 3]);
    expect(store.read('job', 'collect-2', 3, 10)).toEqual({ collectId: 'collect-2', records: [4, 5], next: 5 });
    expect(store.bytes('job')).toBe(18); // 4 and 5, 9 estimated bytes each, until a read from 5
    store.read('job', 'collect-2', 5, 10);
    expect(store.bytes('job')).toBe(0);
    expect(store.end('job', 'collect-2')).toBe(5);
  });

  it('holds the reply to a batch that fills the buffer until a read makes room, then answers ok', async () => {
    const store = new CollectStore();
    let replied: ControlMessage | undefined;
    const reply = store.accept(batch(Array.from({ length: 10 }, (_, i) => i)), 90).then((r) => (replied = r));
    await new Promise((r) => setImmediate(r));
    expect(replied).toBeUndefined();
    expect(store.bytes('job')).toBe(90);
    store.read('job', 'collect-2', 5, 100);
    await reply;
    expect(replied).toEqual({ type: 'ok' });
    expect(store.bytes('job')).toBe(45);
  });

  it('answers collect-full when no read made room within its wait', async () => {
    const store = new CollectStore();
    expect(await store.accept(batch([1, 2]), 9)).toEqual({ type: 'collect-full' });
  });
});
