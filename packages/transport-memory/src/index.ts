export { MemoryTransport, createMemoryTransport } from './memory-transport.js';
export type { MemoryTransportOptions } from './memory-transport.js';
export { LocalFirstTransport } from './local-first-transport.js';
