export { ZmqTransport, createZmqTransport } from './zmq-transport.js';
export type { ZmqTransportOptions, ZmqTransportStats, CurveOptions } from './zmq-options.js';
export { MsgpackCodec } from '@mobius/plugin-kit';
export type { MsgpackCodecOptions } from '@mobius/plugin-kit';
export { ZmqControlServer, ZmqControlClient } from './control.js';
export type { ZmqControlServerOptions, ZmqControlClientOptions, ControlPeerEvent, ControlStats } from './control.js';
export { generateCurveKeyPair } from './curve.js';
export type { CurveKeyPair } from './curve.js';
