import { PlanError, type CoProcessFunction, type KeyedCoProcessFunction, type KeySelector, type PartitionSpec } from '@mobius/interface';
import { DataStream } from './data-stream.js';
import { BroadcastConnectedStream, BroadcastStream } from './broadcast-stream.js';
import { checkProcessFunction } from './process-stream.js';
import { connectTagged, taggedKey, taggedPartition } from './tagged-inputs.js';

const CO_METHODS = ['processElement1', 'processElement2'] as const;

/**
 * Two streams of possibly different types, processed by one operator (`a.connect(b)`, Flink's
 * ConnectedStreams). Each input goes through a chained map that tags its records, and both
 * reach the one operator, which calls `processElement1` or `processElement2`; its watermark is
 * the minimum of both inputs'.
 */
export class ConnectedStreams<A, B> {
  constructor(
    readonly first: DataStream<A>,
    readonly second: DataStream<B>,
  ) {
    if (!(second instanceof DataStream)) throw new PlanError('PLAN_INVALID_FUNCTION', `connect() takes a DataStream or a BroadcastStream, got ${second === null ? 'null' : typeof second}`);
    if (second.upstream.graph !== first.upstream.graph) throw new PlanError('PLAN_INVALID_FUNCTION', 'connect() takes a stream of the same StreamingContext');
  }

  /** Keys both inputs (records of equal keys meet in one task): timers and keyed state of that key. */
  keyBy<K>(keyA: KeySelector<A, K>, keyB: KeySelector<B, K>): KeyedConnectedStreams<A, B, K> {
    if (typeof keyA !== 'function' || typeof keyB !== 'function') {
      throw new PlanError('PLAN_INVALID_FUNCTION', `connect(...).keyBy() takes two key selector functions, got ${typeof keyA} and ${typeof keyB}`);
    }
    return new KeyedConnectedStreams<A, B, K>(this.first, this.second, keyA, keyB);
  }

  /** A CoProcessFunction on both inputs, without keys (no timers; side outputs work). */
  process<O>(fn: CoProcessFunction<A, B, O>): DataStream<O> {
    checkProcessFunction(fn, 'connect(...).process()', CO_METHODS);
    const a = this.first.upstream;
    const b = this.second.upstream;
    const node = connectTagged(a, b, 'coProcess', 'coProcess', fn, (which) => taggedPartition(which === 0 ? a.partition : b.partition));
    return new DataStream<O>(a.graph, node);
  }
}

/** Two connected streams keyed by one key each (`a.connect(b).keyBy(keyA, keyB)`). */
export class KeyedConnectedStreams<A, B, K> {
  constructor(
    private readonly first: DataStream<A>,
    private readonly second: DataStream<B>,
    private readonly keyA: KeySelector<A, K>,
    private readonly keyB: KeySelector<B, K>,
  ) {}

  /** A KeyedCoProcessFunction: `processElement1`, `processElement2` and `onTimer`, with the key of each record current. */
  process<O>(fn: KeyedCoProcessFunction<K, A, B, O>): DataStream<O> {
    checkProcessFunction(fn, 'connect(...).keyBy(...).process()', CO_METHODS);
    const a = this.first.upstream;
    const key: PartitionSpec = { kind: 'key', keySelector: taggedKey(this.keyA as (v: never) => unknown, this.keyB as (v: never) => unknown), explicit: true };
    const node = connectTagged(a, this.second.upstream, 'coProcess', 'keyedCoProcess', fn, () => key);
    return new DataStream<O>(a.graph, node);
  }
}

/** `a.connect(b)`: ConnectedStreams for a DataStream, a BroadcastConnectedStream for a BroadcastStream. */
export function connectStreams<A, B>(first: DataStream<A>, other: DataStream<B> | BroadcastStream<B>): ConnectedStreams<A, B> | BroadcastConnectedStream<A, B> {
  if (other instanceof BroadcastStream) return new BroadcastConnectedStream<A, B>(first, other);
  return new ConnectedStreams<A, B>(first, other);
}
