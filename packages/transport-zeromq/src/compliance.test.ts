import { describeCodec, describeTransport } from '@mobius/testkit';
import { MsgpackCodec } from '@mobius/plugin-kit';
import { sendRawDealer, sendRawTcp } from './test-support/raw.js';
import { ZmqTransport } from './zmq-transport.js';

describeCodec('msgpack', new MsgpackCodec());

// Real sockets on 127.0.0.1, ephemeral ports. Garbage arrives both as ZeroMQ messages from a raw
// DEALER and as raw bytes on a plain TCP connection (no ZMTP handshake).
describeTransport('zeromq', {
  create: () => new ZmqTransport({ host: '127.0.0.1', port: 0 }),
  createAt: (endpoint) => new ZmqTransport({ endpoint }),
  teardown: (t) => t.close(),
  sendRaw: async (endpoint, bytes) => {
    await sendRawDealer(endpoint, bytes);
    await sendRawTcp(endpoint, bytes);
  },
});

describeTransport('zeromq over ipc', {
  create: () => new ZmqTransport({ endpoint: `ipc:///tmp/mobius-compliance-${process.pid}-${Math.random().toString(36).slice(2)}.sock` }),
  createAt: (endpoint) => new ZmqTransport({ endpoint }),
  sendRaw: (endpoint, bytes) => sendRawDealer(endpoint, bytes),
}, { frames: 2000, largeFrameBytes: 1024 * 1024 });
