export { StreamingContext, StreamingContextBuilder } from './streaming-context.js';
export { DataStream, KeyedStream, StreamSink } from './data-stream.js';
export type { StreamUpstream } from './data-stream.js';
export { WatermarkStrategy, BoundedOutOfOrdernessWatermarks } from './watermark-strategy.js';
export { OutputTag } from '@mobius/interface';
export type { TimestampAssigner, WatermarkGenerator, WatermarkOutput, WatermarkStrategyLike } from '@mobius/interface';
export type { AsyncMapOptions } from './async-map-options.js';
export type { CollectOptions } from './collect-options.js';
export type { CollectingJobHandle } from './collected-records.js';
export { setDefaultRunner, getDefaultRunner, setRunnerOverride } from './runner-registry.js';
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
} from '@mobius/interface';
export { registerType, RecordTypeError } from '@mobius/interface';
export type { RecordClass, TypeCodecOptions } from '@mobius/interface';

// ---- windows, window joins and keyed aggregations (issue 11, windows part) ----
export { WindowedStream } from './windowed-stream.js';
export type { WindowFunctionLike } from './windowed-stream.js';
export { JoinedStreams, JoinedWindowBuilder, WindowedJoin } from './window-join.js';
export type { JoinFn } from './window-join.js';
export type { FieldRef } from './keyed-aggregations.js';
export {
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
} from '@mobius/windowing';
export type {
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
} from '@mobius/windowing';
// process functions, connect, broadcast state and interval joins (issue 11, process part)
export { ConnectedStreams, KeyedConnectedStreams } from './connected-streams.js';
export { BroadcastStream, BroadcastConnectedStream, KeyedBroadcastConnectedStream } from './broadcast-stream.js';
export { IntervalJoin, IntervalJoined } from './interval-join.js';
export { ProcessError } from '@mobius/interface';
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
} from '@mobius/interface';
