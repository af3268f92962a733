import {
  OutputTag,
  PlanError,
  type WatermarkStrategyLike,
  type ConfigValue,
  type FilterFn,
  type FilterFunction,
  type FlatMapFn,
  type FlatMapFunction,
  type KeySelector,
  type MapFn,
  type MapFunction,
  type OperatorKind,
  type PartitionFn,
  type PartitionFunction,
  type PartitionSpec,
  type ReduceFn,
  type ReduceFunction,
  type SinkFn,
  type SinkFunction,
} from '@mobius/interface';
import { asyncMapConfig, type AsyncMapOptions } from './async-map-options.js';
import { collectOptions, type CollectOptions } from './collect-options.js';
import { CollectedRecords } from './collected-records.js';
import type { GraphBuilder, NodeBuilder } from './graph-builder.js';
// windows, window joins and keyed aggregations (issue 11, windows part)
import type { GlobalWindow, Window, WindowAssigner } from '@mobius/windowing';
import { countWindow as countWindowOf, countWindowAll as countWindowAllOf, keyedWindow, windowAll as windowAllOf, type WindowedStream } from './windowed-stream.js';
import { joinStreams, type JoinedStreams } from './window-join.js';
import { keyedMax, keyedMaxBy, keyedMin, keyedMinBy, keyedSum, type FieldRef } from './keyed-aggregations.js';
// process functions, connect, broadcast state and interval joins (issue 11, process part)
import type { KeyedProcessFunction, MapStateDescriptor, ProcessFunction } from '@mobius/interface';
import { processKeyed, processStream } from './process-stream.js';
import { connectStreams, type ConnectedStreams } from './connected-streams.js';
import { broadcastStream, KeyedBroadcastConnectedStream, type BroadcastConnectedStream, type BroadcastStream } from './broadcast-stream.js';
import { IntervalJoin } from './interval-join.js';

/** Where a stream comes from: what an operator added after it is wired to. */
export interface StreamUpstream {
  readonly graph: GraphBuilder;
  readonly node: NodeBuilder;
  readonly partition: PartitionSpec;
  readonly sideOutput: string | undefined;
}

const DEFAULT_PARTITION: PartitionSpec = { kind: 'forward', explicit: false };

function checkFunction(fn: unknown, kind: OperatorKind | 'partitionBy', method: string): void {
  const ok = typeof fn === 'function' || (typeof fn === 'object' && fn !== null && typeof (fn as Record<string, unknown>)[method] === 'function');
  if (!ok) {
    throw new PlanError('PLAN_INVALID_FUNCTION', `${kind}() takes a function or an object with a ${method}() method, got ${fn === null ? 'null' : typeof fn}`);
  }
}

/** Settings shared by every stream and sink: they apply to the operator that made the stream. */
abstract class OperatorHandle {
  constructor(
    protected readonly graph: GraphBuilder,
    protected readonly node: NodeBuilder,
  ) {}

  /** Number of parallel tasks of this operator (validated when the job is planned). */
  setParallelism(parallelism: number): this {
    this.node.parallelism = parallelism;
    return this;
  }

  /** Sets an operator-level config key (validated when the job is planned). */
  withConfig(key: string, value: ConfigValue): this {
    this.node.config[key] = value;
    return this;
  }

  /** Keeps this operator out of any chain: it runs as a task of its own. */
  disableChain(): this {
    this.node.chaining = false;
    return this;
  }

  /**
   * Puts this operator in a slot-sharing group (Flink's): one task of each operator chain of a
   * group may share a slot, so a job needs, per group, its largest parallelism in slots. Every
   * operator is in `default` unless set; one that sets none inherits its inputs' group.
   */
  slotSharingGroup(name: string): this {
    this.node.slotSharingGroup = name;
    return this;
  }

  /** A display name for plans, logs and errors. */
  name(name: string): this {
    this.node.name = name;
    return this;
  }

  /** A stable operator id (state is matched to operators by id across job versions). */
  uid(uid: string): this {
    this.node.uid = uid;
    return this;
  }

  /** The operator id (the uid, or one derived from the position in the graph). */
  get id(): string {
    return this.node.id;
  }

  /** The parallelism set on this operator, if any. */
  getParallelism(): number | undefined {
    return this.node.parallelism;
  }
}

/** The end of a pipeline. */
export class StreamSink<T> extends OperatorHandle {
  /** Phantom field so that StreamSink<A> and StreamSink<B> are distinct types. */
  declare readonly __record?: T;
}

/** A stream of records of type T, produced by one operator. */
export class DataStream<T> extends OperatorHandle {
  constructor(
    graph: GraphBuilder,
    node: NodeBuilder,
    /** How records of this stream reach the next operator. */
    protected readonly partition: PartitionSpec = DEFAULT_PARTITION,
    /** The side output of `node` this stream is (an OutputTag id), or undefined for its main output. */
    protected readonly sideOutput: string | undefined = undefined,
  ) {
    super(graph, node);
  }

  /** Adds an operator fed by this stream (internal: the API's other files build on it). */
  protected addOperator(kind: OperatorKind, name: string, fn: unknown): NodeBuilder {
    const node = this.graph.addNode(kind, name, fn);
    this.graph.addEdge(this.node, node, this.partition, this.sideOutput);
    return node;
  }

  /** The graph, node, partitioning and side output of this stream (internal: for the API's other files). */
  get upstream(): StreamUpstream {
    return { graph: this.graph, node: this.node, partition: this.partition, sideOutput: this.sideOutput };
  }

  /**
   * The records an operator of this stream emitted to side output `tag` (`ctx.output(tag, v)`
   * in a process function, `sideOutputLateData(tag)` of a window), as a stream of its own.
   */
  getSideOutput<S>(tag: OutputTag<S>): DataStream<S> {
    if (!(tag instanceof OutputTag)) throw new PlanError('PLAN_INVALID_FUNCTION', `getSideOutput() takes an OutputTag, got ${tag === null ? 'null' : typeof tag}`);
    return new DataStream<S>(this.graph, this.node, DEFAULT_PARTITION, tag.id);
  }

  /**
   * Gives each record its event time and makes watermarks (Flink's assignTimestampsAndWatermarks):
   * `WatermarkStrategy.forBoundedOutOfOrderness(ms).withTimestampAssigner((r) => r.time)`.
   * Watermarks go out every `pipeline.auto-watermark-interval.ms` (default 200); watermarks from
   * upstream are replaced by this operator's own (except the final +Infinity of a bounded input).
   */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategyLike<T>): DataStream<T> {
    if (typeof strategy !== 'object' || strategy === null || typeof strategy.createWatermarkGenerator !== 'function') {
      throw new PlanError('PLAN_INVALID_FUNCTION', `assignTimestampsAndWatermarks() takes a WatermarkStrategy, got ${strategy === null ? 'null' : typeof strategy}`);
    }
    return new DataStream<T>(this.graph, this.addOperator('timestamps', 'timestamps', strategy));
  }

  // ---- windows on a non-keyed stream (windowAll) and window joins: windowed-stream.ts ----
  /** Windows over the whole stream, in ONE task (parallelism 1): see WindowedStream. */
  windowAll<W extends Window>(assigner: WindowAssigner<W>): WindowedStream<T, number, W> { return windowAllOf(this, assigner); }
  /** windowAll of `size` records each (GlobalWindows, fired and purged every `size` records). */
  countWindowAll(size: number): WindowedStream<T, number, GlobalWindow> { return countWindowAllOf(this, size); }
  /** An inner window join: `a.join(b).where(keyA).equalTo(keyB).window(assigner).apply((x, y) => out)`. */
  join<B>(other: DataStream<B>): JoinedStreams<T, B> { return joinStreams(this, other); }

  // ---- process functions, connect and interval joins: process-stream.ts ----
  /** A process function (`processElement(value, ctx, out)`, side outputs with `ctx.output`); timers need keyBy. */
  process<O>(fn: ProcessFunction<T, O>): DataStream<O> {
    return processStream(this, fn);
  }

  /** Two inputs in one operator: a stream (then `.process(CoProcessFunction)` or `.keyBy(ka, kb)`) or a broadcast stream. */
  connect<B>(other: BroadcastStream<B>): BroadcastConnectedStream<T, B>;
  connect<B>(other: DataStream<B>): ConnectedStreams<T, B>;
  connect<B>(other: DataStream<B> | BroadcastStream<B>): ConnectedStreams<T, B> | BroadcastConnectedStream<T, B> {
    return connectStreams(this, other);
  }


  /**
   * One output per input. A function that returns a promise is awaited: results leave in input
   * order, at most `runtime.async.capacity` calls in flight per task (see asyncMap).
   */
  map<O>(fn: MapFn<T, O | PromiseLike<O>> | MapFunction<T, O | PromiseLike<O>>): DataStream<O> {
    checkFunction(fn, 'map', 'map');
    return new DataStream<O>(this.graph, this.addOperator('map', 'map', fn));
  }

  /**
   * A map over an async function (Flink's AsyncDataStream): `{ ordered: false }` lets results
   * leave as they complete, `capacity` bounds the calls in flight per task, `timeoutMs` fails the
   * task on a call that takes longer. Results before a checkpoint barrier always leave before it.
   */
  asyncMap<O>(fn: MapFn<T, O | PromiseLike<O>> | MapFunction<T, O | PromiseLike<O>>, options: AsyncMapOptions = {}): DataStream<O> {
    checkFunction(fn, 'map', 'map');
    const config = asyncMapConfig(options);
    const stream = new DataStream<O>(this.graph, this.addOperator('map', 'asyncMap', fn));
    for (const [key, value] of Object.entries(config)) stream.withConfig(key, value);
    return stream;
  }

  /** Zero or more outputs per input: return an iterable, or emit through the collector. */
  flatMap<O>(fn: FlatMapFn<T, O> | FlatMapFunction<T, O>): DataStream<O> {
    checkFunction(fn, 'flatMap', 'flatMap');
    return new DataStream<O>(this.graph, this.addOperator('flatMap', 'flatMap', fn));
  }

  /** Keeps the records for which the function returns true. */
  filter(fn: FilterFn<T> | FilterFunction<T>): DataStream<T> {
    checkFunction(fn, 'filter', 'filter');
    return new DataStream<T>(this.graph, this.addOperator('filter', 'filter', fn));
  }

  /** Partitions the stream by key: records with equal keys reach the same task. */
  keyBy<K>(selector: KeySelector<T, K>): KeyedStream<T, K> {
    if (typeof selector !== 'function') throw new PlanError('PLAN_INVALID_FUNCTION', `keyBy() takes a function, got ${typeof selector}`);
    return new KeyedStream<T, K>(this.graph, this.node, { kind: 'key', keySelector: selector as (r: never) => unknown, explicit: true }, this.sideOutput);
  }

  /** Merges this stream with others of the same type. Every element arrives once. */
  union(...others: DataStream<T>[]): DataStream<T> {
    // Check every argument before adding anything, so a bad call leaves the graph unchanged.
    for (const other of others) {
      if (!(other instanceof DataStream)) throw new PlanError('PLAN_INVALID_FUNCTION', 'union() takes data streams');
      if (other.graph !== this.graph) throw new PlanError('PLAN_INVALID_FUNCTION', 'union() takes data streams of the same StreamingContext');
    }
    const node = this.addOperator('union', 'union', undefined);
    for (const other of others) this.graph.addEdge(other.node, node, other.partition, other.sideOutput);
    return new DataStream<T>(this.graph, node);
  }

  /** Sends every record to every parallel task of the next operator. */
  broadcast(): DataStream<T>;
  /** With MapStateDescriptors: a BroadcastStream whose records fill broadcast state (`a.connect(b.broadcast(d))`). */
  broadcast(...descriptors: MapStateDescriptor<unknown, unknown>[]): BroadcastStream<T>;
  broadcast(...descriptors: MapStateDescriptor<unknown, unknown>[]): DataStream<T> | BroadcastStream<T> {
    if (descriptors.length > 0) return broadcastStream(this, descriptors);
    return new DataStream<T>(this.graph, this.node, { kind: 'broadcast', explicit: true }, this.sideOutput);
  }

  /** Sends each record to the task(s) the function picks among `numPartitions`. */
  partitionBy(fn: PartitionFn<T> | PartitionFunction<T>): DataStream<T> {
    checkFunction(fn, 'partitionBy', 'partition');
    return new DataStream<T>(this.graph, this.node, { kind: 'custom', partitioner: fn, explicit: true }, this.sideOutput);
  }

  /** Task i sends to task i of the next operator (equal parallelism required). */
  forward(): DataStream<T> {
    return new DataStream<T>(this.graph, this.node, { kind: 'forward', explicit: true }, this.sideOutput);
  }

  /** Spreads records round-robin over the next operator's tasks. */
  rebalance(): DataStream<T> {
    return new DataStream<T>(this.graph, this.node, { kind: 'rebalance', explicit: true }, this.sideOutput);
  }

  /** Ends the pipeline. A plain sink function is at-least-once under failures. */
  sink(fn: SinkFn<T> | SinkFunction<T>): StreamSink<T> {
    checkFunction(fn, 'sink', 'sink');
    return new StreamSink<T>(this.graph, this.addOperator('sink', 'sink', fn));
  }

  /**
   * Ends the pipeline in a collect sink (Flink's `collectAsync`) and returns its records, to be
   * read while the job runs: call it before `ctx.submit()` / `ctx.execute()`. Records reach the
   * caller through a bounded buffer (`collect.buffer.max-bytes`), never through a closure, so
   * this works wherever the tasks run; a caller that does not read holds the sink back.
   */
  collectAsync(): AsyncIterable<T> {
    return this.collectSink();
  }

  private collectSink(): CollectedRecords<T> {
    const node = this.addOperator('collect', 'collect', undefined);
    const records = new CollectedRecords<T>(() => node.id);
    this.graph.collects.push(records as CollectedRecords<unknown>);
    return records;
  }

  /**
   * Runs the job and returns this stream's records (Flink's `executeAndCollect`): in order of
   * arrival, each task's records in its order. With `limit`, returns the first `limit` records
   * and cancels the job. Rejects with the job's error if it fails.
   */
  async executeAndCollect(options?: string | CollectOptions): Promise<T[]> {
    const { jobName, limit } = collectOptions(options);
    const submit = this.graph.submit;
    if (submit === undefined) throw new PlanError('PLAN_INVALID_FUNCTION', 'executeAndCollect() needs a stream of a StreamingContext');
    const records = this.collectSink();
    const job = await submit(jobName);
    const out: T[] = [];
    const reader = records[Symbol.asyncIterator]();
    for (;;) {
      const batch = await records.nextBatch();
      if (batch === undefined) break;
      for (const record of batch) {
        if (out.length === limit) break;
        out.push(record);
      }
      if (out.length === limit) {
        await reader.return?.();
        break;
      }
    }
    if (limit !== undefined && out.length === limit) await job.cancel();
    else await job.result();
    return out;
  }

  /**
   * Not available on a non-keyed stream: call keyBy() first. Present so that a JavaScript
   * caller gets a clear error instead of "reduce is not a function".
   */
  reduce(_fn: never): never {
    throw new PlanError('PLAN_NOT_KEYED', `reduce() is a keyed operation but the stream of operator "${this.node.name}" (${this.node.id}) is not keyed: call keyBy() before reduce()`, this.node.id);
  }
}

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
