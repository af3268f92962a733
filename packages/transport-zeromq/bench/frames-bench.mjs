#!/usr/bin/env node
// Frames between two processes: ZmqTransport (credits, OPEN/DATA/CREDIT protocol, frame
// validation) against raw zeromq PUSH/PULL with the same msgpackr encode/decode, in one run.
// The parent sends; a child process (this same file, role "receiver") receives.
//
//   node bench/frames-bench.mjs [--frames 20000] [--credits 16] [--rounds 2]
//
// Needs the built package (npm run build). Prints frames/s, MB/s, and the ratio transport/raw.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { Pull, Push } from 'zeromq';
import { MsgpackCodec, ZmqTransport } from '../dist/index.js';

const FRAME_BYTES = 32 * 1024;
const CHANNEL = 'bench:0->0';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** 32 KiB-ish of records (when encoded), the shape of a typical keyed stream. */
function makeRecords() {
  const records = [];
  for (let i = 0; i < 256; i++) records.push({ id: i, key: `key-${i % 97}`, value: i * 1.5, tags: ['a', 'b'], text: 'x'.repeat(81) });
  return records;
}

function frame(seq, records) {
  return { channel: CHANNEL, kind: 'data', seq, count: records.length, records, barrier: null, watermark: null, determinants: null };
}

// --- receiver (child) ---------------------------------------------------------------------------

async function receiver() {
  const packr = new Packr({ useRecords: false, useBigIntExtension: true });
  let stop;
  process.on('message', async (cmd) => {
    if (cmd.type === 'transport') {
      const t = new ZmqTransport();
      await t.start();
      const rx = t.openReceiver(CHANNEL, { credits: cmd.credits });
      let n = 0;
      let records = 0;
      rx.onReadable(() => {
        for (let f = rx.poll(); f !== undefined; f = rx.poll()) {
          records += f.count;
          if (++n === cmd.total) process.send({ type: 'done', n, records });
        }
      });
      stop = () => t.close();
      process.send({ type: 'ready', endpoint: t.endpoint });
    } else if (cmd.type === 'raw') {
      const pull = new Pull({ linger: 0 });
      await pull.bind('tcp://127.0.0.1:0');
      stop = async () => pull.close();
      process.send({ type: 'ready', endpoint: pull.lastEndpoint });
      let n = 0;
      let records = 0;
      for await (const [msg] of pull) {
        // The same work as the transport's receiving side: decode the frame (no validation).
        const [, , , count] = packr.unpack(msg);
        records += count;
        if (++n === cmd.total) {
          process.send({ type: 'done', n, records });
          break;
        }
      }
    } else if (cmd.type === 'stop') {
      await stop?.();
      stop = undefined;
      process.send({ type: 'stopped' });
    } else if (cmd.type === 'exit') {
      process.disconnect();
    }
  });
}

// --- sender (parent) ----------------------------------------------------------------------------

function nextMessage(child, type) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m.type === type) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
  });
}

async function runTransport(child, frames, warmup, credits, records) {
  const total = frames + warmup;
  child.send({ type: 'transport', total, credits });
  const { endpoint } = await nextMessage(child, 'ready');
  const done = nextMessage(child, 'done');
  const t = new ZmqTransport();
  await t.start();
  const tx = t.openSender(CHANNEL, endpoint, { credits });
  let t0 = 0;
  for (let seq = 0; seq < total; seq++) {
    if (seq === warmup) t0 = performance.now();
    const f = frame(seq, records);
    while (!tx.trySend(f)) await tx.whenWritable();
  }
  await done;
  const ms = performance.now() - t0;
  const stats = t.stats();
  await t.close();
  child.send({ type: 'stop' });
  await nextMessage(child, 'stopped');
  return { ms, bytes: (stats.bytesOut / total) * frames };
}

async function runRaw(child, frames, warmup, records) {
  const total = frames + warmup;
  child.send({ type: 'raw', total });
  const { endpoint } = await nextMessage(child, 'ready');
  const done = nextMessage(child, 'done');
  const packr = new Packr({ useRecords: false, useBigIntExtension: true });
  const push = new Push({ linger: 0 });
  push.connect(endpoint);
  let t0 = 0;
  let bytes = 0;
  for (let seq = 0; seq < total; seq++) {
    if (seq === warmup) t0 = performance.now();
    const f = frame(seq, records);
    // The same encoding as MsgpackCodec.encode: one msgpack array per frame.
    const msg = packr.pack([f.channel, f.kind, f.seq, f.count, f.records, f.barrier, f.watermark, f.determinants]);
    if (seq >= warmup) bytes += msg.length;
    await push.send(msg);
  }
  await done;
  const ms = performance.now() - t0;
  push.close();
  child.send({ type: 'stop' });
  await nextMessage(child, 'stopped');
  return { ms, bytes };
}

async function main() {
  const frames = arg('frames', 20_000);
  const credits = arg('credits', 16);
  const rounds = arg('rounds', 2);
  const warmup = Math.min(2000, Math.ceil(frames / 10));
  const records = makeRecords();
  const encoded = new MsgpackCodec().encode(frame(0, records)).length;
  const child = fork(fileURLToPath(import.meta.url), ['receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

  console.log(`frames-bench: ${frames} frames of ${encoded} bytes (${records.length} records, target ${FRAME_BYTES}), credits ${credits}, ${rounds} rounds, sender pid ${process.pid} → receiver pid ${child.pid}`);
  const rate = (r) => ({ fps: (frames / r.ms) * 1000, mbps: r.bytes / 1e6 / (r.ms / 1000) });
  const fmt = (x) => `${Math.round(x.fps).toLocaleString('en-US').padStart(8)} frames/s ${x.mbps.toFixed(1).padStart(7)} MB/s`;
  let bestT;
  let bestR;
  for (let round = 1; round <= rounds; round++) {
    // Alternate the order so neither side always runs on a warmer process.
    const order = round % 2 === 1 ? ['raw', 'transport'] : ['transport', 'raw'];
    for (const which of order) {
      const r = which === 'raw' ? rate(await runRaw(child, frames, warmup, records)) : rate(await runTransport(child, frames, warmup, credits, records));
      console.log(`  round ${round} ${which.padEnd(9)} ${fmt(r)}`);
      if (which === 'raw' && (bestR === undefined || r.fps > bestR.fps)) bestR = r;
      if (which === 'transport' && (bestT === undefined || r.fps > bestT.fps)) bestT = r;
    }
  }
  child.send({ type: 'exit' });
  const ratio = bestT.fps / bestR.fps;
  console.log(`ZmqTransport       ${fmt(bestT)}`);
  console.log(`raw PUSH/PULL      ${fmt(bestR)}`);
  console.log(`ratio transport/raw ${ratio.toFixed(2)} (target >= 0.80) ${ratio >= 0.8 ? 'OK' : 'BELOW TARGET'}`);
}

if (process.argv[2] === 'receiver') await receiver();
else await main();
