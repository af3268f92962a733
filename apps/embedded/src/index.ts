// The user API: what a job author needs. What plugin authors need is in 'mobius/plugin'.
import './register-default-runner.js';

export { StreamingContext, StreamingContextBuilder, DataStream, KeyedStream, StreamSink, setDefaultRunner, getDefaultRunner } from '@mobius/api';
export type { AsyncMapOptions, CollectOptions, CollectingJobHandle } from '@mobius/api';
// Event time: timestamps, watermarks and side outputs (issue 11).
export { WatermarkStrategy, BoundedOutOfOrdernessWatermarks, OutputTag } from '@mobius/api';
export type { TimestampAssigner, WatermarkGenerator, WatermarkOutput, WatermarkStrategyLike } from '@mobius/api';
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
  JobHandle,
  JobResult,
  JobRunner,
  JobState,
  ConfigValue,
  ConfigOption,
  ExecutionPlan,
  LogicalGraph,
  TaskMetrics,
  CheckpointedFunction,
  TwoPhaseCommitSinkFunction,
  ValueState,
  ListState,
  MapState,
  ValueStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  StateDescriptor,
  RecordClass,
  TypeCodecOptions,
} from '@mobius/interface';
export {
  MobiusError,
  ConfigError,
  PlanError,
  TaskFailedError,
  JobFailedError,
  RunnerError,
  BackpressureError,
  StateError,
  CheckpointError,
  RecordTypeError,
  registerType,
  CONFIG_KEYS,
  CoreOptions,
  valueState,
  listState,
  mapState,
} from '@mobius/interface';
// process functions, side outputs, connect, broadcast state and interval joins (issue 11, process part)
export {
  ProcessError,
  ConnectedStreams,
  KeyedConnectedStreams,
  BroadcastStream,
  BroadcastConnectedStream,
  KeyedBroadcastConnectedStream,
  IntervalJoin,
  IntervalJoined,
} from '@mobius/api';
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
} from '@mobius/api';
export { createPlan, explain } from '@mobius/planner';
export type { ExplainFormat } from '@mobius/planner';
export { FileSink } from '@mobius/runtime';
export type { FileSinkOptions } from '@mobius/runtime';
export { EmbeddedRunner } from './embedded-runner.js';
export type { EmbeddedRunnerOptions } from './embedded-runner.js';
// What an embedded job's autoscalerEvents() lists (issue 12).
export type { AutoscalerEvent, AutoscalerDecision, AutoscalerLimit, VertexRates } from '@mobius/jobmaster';

// ---- windows, window joins and keyed aggregations (issue 11, windows part) ----
export {
  WindowedStream,
  JoinedStreams,
  TimeWindow,
  GlobalWindow,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
  GlobalWindows,
  TriggerResult,
  EventTimeTrigger,
  ProcessingTimeTrigger,
  CountTrigger,
  PurgingTrigger,
} from '@mobius/api';
export type {
  WindowFunctionLike,
  JoinFn,
  FieldRef,
  Window,
  WindowAssigner,
  MergingWindowAssigner,
  WindowAssignerContext,
  Trigger,
  TriggerContext,
  OnMergeContext,
  AggregateFunction,
  WindowFunction,
  ProcessWindowFunction,
  ProcessWindowContext,
} from '@mobius/api';
