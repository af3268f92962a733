export { FsCheckpointStore, sanitiseName } from './fs-checkpoint-store.js';
export type { FsCheckpointStoreOptions } from './fs-checkpoint-store.js';
export { CheckpointCoordinator } from './checkpoint-coordinator.js';
export type { CheckpointCoordinatorOptions, CheckpointStats } from './checkpoint-coordinator.js';
export { snapshotsToRestore, compactCheckpoint } from './restore-chain.js';
