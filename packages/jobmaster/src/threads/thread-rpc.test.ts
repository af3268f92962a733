import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ThreadRpc } from './thread-rpc.js';

type Msg = { readonly t: string; readonly id?: number; readonly n?: number };

describe('ThreadRpc', () => {
  it('answers requests by id, passes other messages on, and carries an error with its code', async () => {
    const { port1, port2 } = new MessageChannel();
    const seen: Msg[] = [];
    const server: ThreadRpc<Msg> = new ThreadRpc<Msg>(port2, (m) => {
      if (m.t === 'double') server.answer(m.id!, () => m.n! * 2);
      else if (m.t === 'boom') server.answer(m.id!, () => Promise.reject(Object.assign(new Error('no such thing'), { code: 'NOPE' })));
      else seen.push(m);
    });
    const client = new ThreadRpc<Msg>(port1, () => undefined);
    try {
      const [a, b] = await Promise.all([client.request<number>({ t: 'double', n: 4 }), client.request<number>({ t: 'double', n: 21 })]);
      expect([a, b]).toEqual([8, 42]);
      await expect(client.request({ t: 'boom' })).rejects.toMatchObject({ code: 'NOPE', message: 'no such thing' });
      client.post({ t: 'note', n: 1 });
      await client.request({ t: 'double', n: 0 }); // after the note, in order
      expect(seen).toEqual([{ t: 'note', n: 1 }]);
    } finally {
      port1.close();
    }
  });

  it('rejects what is in flight, and later requests, once the other side is gone', async () => {
    const { port1, port2 } = new MessageChannel();
    new ThreadRpc<Msg>(port2, () => undefined); // never answers
    const client = new ThreadRpc<Msg>(port1, () => undefined);
    const pending = client.request({ t: 'anything' });
    client.fail('thread 3 exited (code 1)');
    await expect(pending).rejects.toMatchObject({ code: 'TASK_THREAD_LOST', message: 'thread 3 exited (code 1)' });
    await expect(client.request({ t: 'again' })).rejects.toMatchObject({ code: 'TASK_THREAD_LOST' });
    port1.close();
  });
});
