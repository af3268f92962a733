export { FsCheckpointStore, sanitiseName } from './fs-checkpoint-store.js';
export type { FsCheckpointStoreOptions } from './fs-checkpoint-store.js';
export { CheckpointCoordinator } from './checkpoint-coordinator.js';
export type { CheckpointCoordinatorOptions, CheckpointStats } from './checkpoint-coordinator.js';
export { snapshotsToRestore, compactCheckpoint } from './restore-chain.js';
export { planRecovery } from './recovery-planner.js';
export type { RecoveryStrategy, RecoveryRequest, RecoveryDecision } from './recovery-planner.js';
export { RecoveryEventLog } from './recovery-events.js';
export type { RecoveryEvent, RecoveryEventStart, RecoveryEventHandle, RecoveryEventLogOptions } from './recovery-events.js';
