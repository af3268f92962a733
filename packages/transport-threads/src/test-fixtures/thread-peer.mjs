// A worker thread of the real-thread tests: one end of a channel through a ThreadTransport
// linked to the main thread's hub. Reports to its parent with { t, ... } messages.
import { parentPort, workerData } from 'node:worker_threads';
import { makeFrame } from '@mobius/interface';
import { ThreadTransport } from '../../dist/index.js';

const { role, link, channel, target, frames, credits, ringBytes, recordBytes = 0, recordsPerFrame = 1, slow = false } = workerData;
const transport = new ThreadTransport({ link, ringBytes });
await transport.start();
transport.on('peer-lost', (peer) => parentPort.postMessage({ t: 'peer-lost', peer }));

const pad = 'x'.repeat(recordBytes);
const recordsOf = (seq) => Array.from({ length: recordsPerFrame }, (_, i) => [seq, i, pad]);

if (role === 'send') {
  const tx = transport.openSender(channel, target, { credits });
  parentPort.postMessage({ t: 'ready' });
  let waits = 0;
  let maxUnreadFrames = 0;
  let maxUnreadBytes = 0;
  for (let seq = 0; seq < frames; seq++) {
    const frame = makeFrame(channel, 'data', seq, recordsOf(seq));
    while (!tx.trySend(frame)) {
      waits++;
      await tx.whenWritable();
    }
    maxUnreadFrames = Math.max(maxUnreadFrames, tx.unreadFrames);
    maxUnreadBytes = Math.max(maxUnreadBytes, tx.unreadBytes);
  }
  parentPort.postMessage({ t: 'sent', waits, maxUnreadFrames, maxUnreadBytes, ringCapacity: tx.ring.capacity });
} else {
  const rx = transport.openReceiver(channel, { credits });
  let count = 0;
  let outOfOrder = 0;
  let checksum = 0;
  let scheduled = false;
  const take = (max) => {
    for (let i = 0; i < max; i++) {
      const f = rx.poll();
      if (f === undefined) return false;
      if (f.seq !== count || f.records.length !== recordsPerFrame || f.records[0][0] !== f.seq) outOfOrder++;
      checksum += f.seq;
      count++;
      if (count === frames) parentPort.postMessage({ t: 'received', count, outOfOrder, checksum });
      else if (count % 1000 === 0 || count <= 3) parentPort.postMessage({ t: 'progress', count });
    }
    return true;
  };
  // A slow reader takes one frame per event-loop turn; a fast one drains on every wake-up.
  const drain = () => {
    scheduled = false;
    if (take(slow ? 1 : Infinity) && !scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  };
  rx.onReadable(() => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(drain);
  });
  parentPort.postMessage({ t: 'ready' });
}
