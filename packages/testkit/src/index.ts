export { describeTransport } from './describe-transport.js';
export type { TransportSuiteFactory, TransportSuiteOptions } from './describe-transport.js';
export { describeCodec, sampleFrames } from './describe-codec.js';
export { frameOf, waitFor, within, settle, collectFrames, sendWhenWritable, prng, randomBytes } from './helpers.js';
