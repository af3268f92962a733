import { PlanError, type BroadcastProcessFunction, type KeyedBroadcastProcessFunction, type MapStateDescriptor, type PartitionSpec } from '@mobius/interface';
import { DataStream, type KeyedStream, type StreamUpstream } from './data-stream.js';
import { checkProcessFunction } from './process-stream.js';
import { connectTagged, taggedKey, taggedPartition } from './tagged-inputs.js';

const BROADCAST: PartitionSpec = { kind: 'broadcast', explicit: true };
const BROADCAST_METHODS = ['processElement', 'processBroadcastElement'] as const;
/** The key of a broadcast record in a keyed operator: it has none, any fixed value will do. */
const noKey = (): number => 0;

/**
 * A stream sent to every task of the operator it is connected to, with the broadcast states it
 * fills (`b.broadcast(descriptor)`, Flink's BroadcastStream). Connect it to another stream:
 * `a.connect(broadcastStream).process(fn)`.
 */
export class BroadcastStream<T> {
  /** Phantom field so that BroadcastStream<A> and BroadcastStream<B> are distinct types. */
  declare readonly __record?: T;

  constructor(
    readonly stream: DataStream<T>,
    readonly descriptors: readonly MapStateDescriptor<unknown, unknown>[],
  ) {
    for (const d of descriptors) {
      if (typeof d !== 'object' || d === null || typeof d.name !== 'string' || d.name.length === 0) {
        throw new PlanError('PLAN_INVALID_FUNCTION', `broadcast() takes MapStateDescriptors (mapState('name')), got ${JSON.stringify(d)}`);
      }
    }
  }
}

/** `b.broadcast(...descriptors)`. */
export function broadcastStream<T>(stream: DataStream<T>, descriptors: readonly MapStateDescriptor<unknown, unknown>[]): BroadcastStream<T> {
  return new BroadcastStream<T>(stream, descriptors);
}

function checkBroadcast(b: unknown, first: StreamUpstream): BroadcastStream<unknown> {
  if (!(b instanceof BroadcastStream)) throw new PlanError('PLAN_INVALID_FUNCTION', `connect() on a keyed stream takes a BroadcastStream (b.broadcast(descriptor)), got ${b === null ? 'null' : typeof b}`);
  if ((b as BroadcastStream<unknown>).stream.upstream.graph !== first.graph) throw new PlanError('PLAN_INVALID_FUNCTION', 'connect() takes a stream of the same StreamingContext');
  return b as BroadcastStream<unknown>;
}

/** A stream connected to a broadcast stream (`a.connect(b.broadcast(descriptor))`). */
export class BroadcastConnectedStream<A, B> {
  constructor(
    private readonly first: DataStream<A>,
    private readonly second: BroadcastStream<B>,
  ) {
    checkBroadcast(second, first.upstream);
  }

  /**
   * `processElement(value, ctx, out)` sees the broadcast state read-only; `processBroadcastElement`
   * (called in every task for every broadcast record) may write it.
   */
  process<O>(fn: BroadcastProcessFunction<A, B, O>): DataStream<O> {
    checkProcessFunction(fn, 'connect(broadcastStream).process()', BROADCAST_METHODS);
    const a = this.first.upstream;
    const node = connectTagged(a, this.second.stream.upstream, 'broadcastProcess', 'broadcastProcess', fn, (which) => (which === 0 ? taggedPartition(a.partition) : BROADCAST));
    return new DataStream<O>(a.graph, node);
  }
}

/** A keyed stream connected to a broadcast stream (`a.keyBy(k).connect(b.broadcast(descriptor))`). */
export class KeyedBroadcastConnectedStream<K, A, B> {
  constructor(
    private readonly first: KeyedStream<A, K>,
    private readonly second: BroadcastStream<B>,
  ) {
    checkBroadcast(second, first.upstream);
  }

  /** As the non-keyed one, plus the current key, keyed state and timers in `processElement` and `onTimer`. */
  process<O>(fn: KeyedBroadcastProcessFunction<K, A, B, O>): DataStream<O> {
    checkProcessFunction(fn, 'keyBy(...).connect(broadcastStream).process()', BROADCAST_METHODS);
    const a = this.first.upstream;
    const key: PartitionSpec = { kind: 'key', keySelector: taggedKey(this.first.keySelector as (v: never) => unknown, noKey), explicit: true };
    const node = connectTagged(a, this.second.stream.upstream, 'broadcastProcess', 'keyedBroadcastProcess', fn, (which) => (which === 0 ? key : BROADCAST));
    return new DataStream<O>(a.graph, node);
  }
}
