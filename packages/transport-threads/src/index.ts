export { ThreadTransport, createThreadTransport, DEFAULT_RING_BYTES } from './thread-transport.js';
export type { ThreadTransportOptions } from './thread-transport.js';
export { ThreadHub } from './thread-hub.js';
export type { ThreadLink } from './thread-hub.js';
export { SharedFrameRing, MIN_RING_BYTES, MAX_RING_BYTES } from './shared-frame-ring.js';
export { threadEndpoint } from './thread-endpoint.js';
export { ColumnFrameCodec } from './column-frame-codec.js';
