export {
  MobiusError,
  ConfigError,
  PlanError,
  TaskFailedError,
  JobFailedError,
  RunnerError,
  InsufficientSlotsError,
  TransportError,
  StateError,
  CheckpointError,
  BackpressureError,
} from './errors.js';
export type { PlanErrorCode } from './errors.js';
export { RecordTypeError } from './record-type-error.js';
export { registerType, registeredTypeOf, registeredTypeNamed } from './type-registry.js';
export type { RecordClass, TypeCodecOptions, RegisteredType } from './type-registry.js';
export {
  CONFIG_KEYS,
  CoreOptions,
  configOption,
  configKey,
  defaultConfig,
  getConfig,
  getOperatorConfig,
  knownConfigKeys,
  registerConfigKind,
  registerConfigOptions,
  registeredConfigKinds,
  validateConfig,
  validateConfigEntry,
} from './config.js';
export type { ConfigValue, ConfigMap, ConfigScope, ConfigKeyDeclaration, ConfigOption } from './config.js';
export type {
  RuntimeContext,
  RichFunction,
  Collector,
  MapFn,
  MapFunction,
  FlatMapFn,
  FlatMapFunction,
  FilterFn,
  FilterFunction,
  KeySelector,
  ReduceFn,
  ReduceFunction,
  SinkFn,
  SinkFunction,
  PartitionFn,
  PartitionFunction,
  SourceContext,
  SourceFunction,
} from './functions.js';
export type {
  OperatorKind,
  BuiltinOperatorKind,
  OperatorLanguage,
  PartitionKind,
  PartitionSpec,
  SourceSpec,
  LogicalNode,
  LogicalEdge,
  LogicalGraph,
} from './graph.js';
export type { KeyGroupRange, PlanOperator, PlanVertex, PlanEdge, PlanTask, PlanChannel, ExecutionPlan } from './plan.js';
export { DEFAULT_SLOT_SHARING_GROUP } from './plan.js';
export { OutputTag } from './output-tag.js';
// process functions, broadcast state and interval joins (issue 11, process part)
export { ProcessError } from './process-functions.js';
export type {
  ProcessErrorCode,
  TimeDomain,
  TimerService,
  ProcessContext,
  KeyedProcessContext,
  OnTimerContext,
  ProcessFunction,
  KeyedProcessFunction,
  CoProcessFunction,
  KeyedCoProcessFunction,
  ReadOnlyBroadcastState,
  BroadcastState,
  ReadOnlyBroadcastContext,
  BroadcastContext,
  BroadcastProcessFunction,
  KeyedReadOnlyBroadcastContext,
  KeyedBroadcastOnTimerContext,
  KeyedBroadcastProcessFunction,
  IntervalJoinContext,
  IntervalJoinFn,
} from './process-functions.js';
export type { TimestampAssigner, WatermarkGenerator, WatermarkOutput, WatermarkStrategyLike } from './event-time.js';
export { makeFrame, makeWatermarkFrame, isIdleMarker, isDeterminant, longestDeterminants } from './frame.js';
export type { ChannelId, FrameKind, Barrier, Determinant, DeterminantRun, Frame } from './frame.js';
export type { Codec, Serializer } from './codec.js';
export type { ChannelOptions, ChannelSender, ChannelReceiver, TransportEvent, Transport, TransportFactory } from './transport.js';
export type { ControlMessage, ControlChannel, TaskProgressReport, TaskRunState } from './control.js';
export type { StateKey, KeyedStore, TaskStateScope, StateSnapshot, SnapshotOptions, TaskStateBackend, StateBackend } from './state.js';
export type { StateBackendFactory } from './state-backend-factory.js';
export { StateBackendRegistry } from './state-backend-registry.js';
export type { CheckpointMetadata, CheckpointStore, TaskSnapshot, TimerEntry, CheckpointListener } from './checkpoint.js';
export type { CheckpointedFunction, TwoPhaseCommitSinkFunction } from './checkpointed-function.js';
export { completedCheckpoints, latestValidCheckpoint } from './checkpoint-selection.js';
export type { ScannedCheckpoint } from './checkpoint-selection.js';
export { murmur3 } from './murmur3.js';
export { normalizeKey, hashKey, keyGroupOf, keyGroupRangeFor, taskIndexForKeyGroup } from './key-groups.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export type { JobState, TaskMetrics, JobResult, JobHandle, SubmitOptions, JobRunner, RecoveryEvent, RescaleEvent, TaskLoadField } from './runner.js';
export { TASK_LOAD_FIELDS } from './runner.js';
export type {
  RestoreHandles,
  TaskToDeploy,
  TaskDeploymentRequest,
  CancelTasks,
  RestartedTasks,
  TaskGateway,
  TaskStateUpdate,
  TaskGatewayListener,
  RescaleChannelChanges,
  RescalePreparation,
} from './task-gateway.js';
export type { JobRecord, JobStore } from './job-store.js';
export type { WorkerInfo, TaskPlacement, Scheduler } from './scheduler.js';
export { valueState, listState, mapState } from './keyed-state.js';
export type {
  ValueStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  StateDescriptor,
  ValueState,
  ListState,
  MapState,
} from './keyed-state.js';
