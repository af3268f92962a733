// Thread transport benchmark: frames of 1,024 small records from a worker thread to the main
// thread, through @mobius/transport-threads (a SharedArrayBuffer ring of msgpack frames, credits)
// against the baseline of the same frames sent with MessagePort.postMessage (structured clone).
// Both variants build every frame anew in the sender and count every record in the receiver.
import { MessageChannel, Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { makeFrame } from '@mobius/interface';
import { ThreadHub, ThreadTransport } from '@mobius/transport-threads';

const FRAMES = Number(process.env.BENCH_THREAD_FRAMES ?? 5000);
const RECORDS = 1024;
const CREDITS = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHANNEL = 'bench:0->0';

/** A frame of RECORDS small records, like a word count's [word, count] pairs. */
function frameAt(seq) {
  const records = new Array(RECORDS);
  for (let i = 0; i < RECORDS; i++) records[i] = [`w${(seq + i) % 5000}`, i];
  return makeFrame(CHANNEL, 'data', seq * RECORDS, records);
}

async function sender() {
  const { variant, link, port } = workerData;
  if (variant === 'ring') {
    const t = new ThreadTransport({ link });
    await t.start();
    const tx = t.openSender(CHANNEL, workerData.target, { credits: CREDITS });
    parentPort.once('message', async () => {
      for (let seq = 0; seq < FRAMES; seq++) {
        const frame = frameAt(seq);
        while (!tx.trySend(frame)) await tx.whenWritable();
      }
    });
  } else {
    parentPort.once('message', () => {
      for (let seq = 0; seq < FRAMES; seq++) port.postMessage(frameAt(seq));
    });
  }
  parentPort.postMessage('ready');
}

/** Runs one variant; resolves with the seconds from 'go' to the last record counted. */
async function run(variant) {
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  let frames = 0;
  let records = 0;
  let start = 0;
  const finish = () => resolveDone((performance.now() - start) / 1000);
  let worker;
  let cleanup;
  if (variant === 'ring') {
    const hub = new ThreadHub();
    const main = new ThreadTransport({ link: hub.link() });
    await main.start();
    const rx = main.openReceiver(CHANNEL, { credits: CREDITS });
    rx.onReadable(() => {
      for (let f = rx.poll(); f !== undefined; f = rx.poll()) {
        records += f.records.length;
        if (++frames === FRAMES) finish();
      }
    });
    const link = hub.link();
    worker = new Worker(new URL(import.meta.url), { workerData: { variant, link, target: main.endpoint }, transferList: [link.port] });
    hub.watch(link.threadIndex, worker);
    cleanup = async () => {
      await main.close();
      hub.close();
    };
  } else {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (f) => {
      records += f.records.length;
      if (++frames === FRAMES) finish();
    });
    worker = new Worker(new URL(import.meta.url), { workerData: { variant, port: port2 }, transferList: [port2] });
    cleanup = async () => port1.close();
  }
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  start = performance.now();
  worker.postMessage('go');
  const seconds = await done;
  await worker.terminate();
  await cleanup();
  if (records !== FRAMES * RECORDS) throw new Error(`${variant}: counted ${records} records, expected ${FRAMES * RECORDS}`);
  return seconds;
}

async function main() {
  const best = { ring: Infinity, postMessage: Infinity };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['ring', 'postMessage'] : ['postMessage', 'ring'];
    for (const variant of order) best[variant] = Math.min(best[variant], await run(variant));
  }
  console.log(`thread transport: ${FRAMES} frames of ${RECORDS} records, worker thread -> main thread, best of ${ROUNDS}`);
  const rows = Object.entries(best).map(([variant, s]) => ({
    variant: variant === 'ring' ? 'transport-threads (SAB ring, msgpack)' : 'MessagePort.postMessage (structured clone)',
    'frames/s': Math.round(FRAMES / s),
    'records/s': Math.round((FRAMES * RECORDS) / s),
  }));
  console.table(rows);
  console.log(`ratio transport-threads / postMessage: ${(best.postMessage / best.ring).toFixed(2)}`);
}

if (isMainThread) await main();
else await sender();
