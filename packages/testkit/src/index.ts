export { describeTransport } from './describe-transport.js';
export type { TransportSuiteFactory, TransportSuiteOptions } from './describe-transport.js';
export { describeCodec, sampleFrames } from './describe-codec.js';
export { frameOf, waitFor, within, settle, collectFrames, sendWhenWritable, prng, randomBytes } from './helpers.js';
export { describeStateBackend, restoreChain, suiteKeyGroupOf, suiteKeyGroupRange } from './describe-state-backend.js';
export type { StateBackendSuiteFactory, StateBackendSuiteOptions } from './describe-state-backend.js';
export { describeCheckpointStore } from './describe-checkpoint-store.js';
export type { CheckpointStoreSuiteFactory, CheckpointStoreSuiteOptions } from './describe-checkpoint-store.js';
export { withJobDefaults, SUITE_JOB_OPTIONS } from './job-defaults.js';
