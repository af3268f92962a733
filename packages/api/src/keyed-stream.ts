import type {
  FilterFn,
  FilterFunction,
  FlatMapFn,
  FlatMapFunction,
  KeyedProcessFunction,
  MapFn,
  MapFunction,
  OperatorKind,
  PartitionSpec,
  ReduceFn,
  ReduceFunction,
  SinkFn,
  SinkFunction,
  KeySelector,
} from '@mobius/interface';
import type { GlobalWindow, Window, WindowAssigner } from '@mobius/windowing';
import { asyncMapConfig, type AsyncMapOptions } from './async-map-options.js';
import { KeyedBroadcastConnectedStream, type BroadcastStream } from './broadcast-stream.js';
import { checkFunction, DataStream, StreamSink, type StreamUpstream } from './data-stream.js';
import type { GraphBuilder, NodeBuilder } from './graph-builder.js';
import { IntervalJoin } from './interval-join.js';
import { keyedMax, keyedMaxBy, keyedMin, keyedMinBy, keyedSum, type FieldRef } from './keyed-aggregations.js';
import { processKeyed } from './process-stream.js';
import { countWindow as countWindowOf, keyedWindow, type WindowedStream } from './windowed-stream.js';

/** A stream partitioned by key; reduce keeps one value per key. */
export class KeyedStream<T, K = unknown> {
  constructor(
    private readonly graph: GraphBuilder,
    private readonly node: NodeBuilder,
    private readonly partition: PartitionSpec,
    private readonly sideOutput: string | undefined = undefined,
  ) {}

  /** The graph, node, key partitioning and side output of this stream (internal: for the API's other files). */
  get upstream(): StreamUpstream {
    return { graph: this.graph, node: this.node, partition: this.partition, sideOutput: this.sideOutput };
  }

  /** The key selector of this stream. */
  get keySelector(): KeySelector<T, K> {
    return this.partition.keySelector as unknown as KeySelector<T, K>;
  }

  private keyed<O>(kind: OperatorKind, fn: unknown): DataStream<O> {
    const node = this.graph.addNode(kind, kind, fn);
    this.graph.addEdge(this.node, node, this.partition, this.sideOutput);
    return new DataStream<O>(this.graph, node);
  }

  // ---- windows (window, countWindow) and aggregations (sum, min, max, minBy, maxBy): windowed-stream.ts ----
  /** Cuts each key's records into windows: `.window(TumblingEventTimeWindows.of(60_000)).reduce(fn)`. */
  window<W extends Window>(assigner: WindowAssigner<W>): WindowedStream<T, K, W> { return keyedWindow(this, assigner); }
  /** Windows of `size` records per key (fired and purged every `size` records; an incomplete one never fires); with `slide`: the last `size` records, every `slide` records. */
  countWindow(size: number, slide?: number): WindowedStream<T, K, GlobalWindow> { return countWindowOf(this, size, slide); }
  /** Running sum of `field` (index or property) per key; other fields are those of the key's first record. */
  sum(field: FieldRef): DataStream<T> { return keyedSum(this, field); }
  /** Running minimum of `field` per key; other fields are those of the key's first record. */
  min(field: FieldRef): DataStream<T> { return keyedMin(this, field); }
  /** Running maximum of `field` per key; other fields are those of the key's first record. */
  max(field: FieldRef): DataStream<T> { return keyedMax(this, field); }
  /** The record with the smallest `field` per key so far (the first one on ties). */
  minBy(field: FieldRef): DataStream<T> { return keyedMinBy(this, field); }
  /** The record with the largest `field` per key so far (the first one on ties). */
  maxBy(field: FieldRef): DataStream<T> { return keyedMaxBy(this, field); }

  // ---- process functions with timers and interval joins: process-stream.ts ----
  /** A keyed process function: `processElement`, `onTimer`, timers and keyed state of the current key. */
  process<O>(fn: KeyedProcessFunction<K, T, O>): DataStream<O> {
    return processKeyed(this, fn);
  }

  /** This keyed stream with a broadcast stream: `.process(KeyedBroadcastProcessFunction)`. */
  connect<B>(other: BroadcastStream<B>): KeyedBroadcastConnectedStream<K, T, B> {
    return new KeyedBroadcastConnectedStream<K, T, B>(this, other);
  }

  /** Joins records of equal keys whose timestamps are close: `.between(lowerMs, upperMs).process(fn)`. */
  intervalJoin<R>(other: KeyedStream<R, K>): IntervalJoin<T, R, K> {
    return new IntervalJoin<T, R, K>(this, other);
  }


  /** Combines each record with the current value of its key and emits the new value. */
  reduce(fn: ReduceFn<T> | ReduceFunction<T>): DataStream<T> {
    checkFunction(fn, 'reduce', 'reduce');
    return this.keyed<T>('reduce', fn);
  }

  /** A map whose tasks each receive the records of their own keys (a promise is awaited, as DataStream.map). */
  map<O>(fn: MapFn<T, O | PromiseLike<O>> | MapFunction<T, O | PromiseLike<O>>): DataStream<O> {
    checkFunction(fn, 'map', 'map');
    return this.keyed<O>('map', fn);
  }

  /**
   * DataStream.asyncMap on the records of each task's own keys. Keyed state is the current key's
   * only until the function's first `await`: read and write it before.
   */
  asyncMap<O>(fn: MapFn<T, O | PromiseLike<O>> | MapFunction<T, O | PromiseLike<O>>, options: AsyncMapOptions = {}): DataStream<O> {
    checkFunction(fn, 'map', 'map');
    const config = asyncMapConfig(options);
    const stream = this.keyed<O>('map', fn).name('asyncMap');
    for (const [key, value] of Object.entries(config)) stream.withConfig(key, value);
    return stream;
  }

  flatMap<O>(fn: FlatMapFn<T, O> | FlatMapFunction<T, O>): DataStream<O> {
    checkFunction(fn, 'flatMap', 'flatMap');
    return this.keyed<O>('flatMap', fn);
  }

  filter(fn: FilterFn<T> | FilterFunction<T>): DataStream<T> {
    checkFunction(fn, 'filter', 'filter');
    return this.keyed<T>('filter', fn);
  }

  sink(fn: SinkFn<T> | SinkFunction<T>): StreamSink<T> {
    checkFunction(fn, 'sink', 'sink');
    const node = this.graph.addNode('sink', 'sink', fn);
    this.graph.addEdge(this.node, node, this.partition, this.sideOutput);
    return new StreamSink<T>(this.graph, node);
  }

  /** Phantom use of K so KeyedStream<T, A> and KeyedStream<T, B> differ. */
  declare readonly __key?: K;
}
