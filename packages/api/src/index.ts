export { StreamingContext, StreamingContextBuilder } from './streaming-context.js';
export { DataStream, KeyedStream, StreamSink } from './data-stream.js';
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
