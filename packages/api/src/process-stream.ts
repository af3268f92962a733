import { PlanError, type KeyedProcessFunction, type ProcessFunction } from '@mobius/interface';
import { DataStream, type KeyedStream, type StreamUpstream } from './data-stream.js';

/** A PLAN_INVALID_FUNCTION error unless `fn` is an object with each of `methods`. */
export function checkProcessFunction(fn: unknown, what: string, methods: readonly string[]): void {
  const obj = fn as Record<string, unknown> | null;
  const missing = typeof obj === 'object' && obj !== null ? methods.filter((m) => typeof obj[m] !== 'function') : methods;
  if (missing.length > 0) {
    throw new PlanError('PLAN_INVALID_FUNCTION', `${what} takes an object with ${methods.map((m) => `${m}()`).join(' and ')}; missing ${missing.map((m) => `${m}()`).join(', ')}`);
  }
}

function processOn<O>(input: StreamUpstream, fn: unknown, what: string): DataStream<O> {
  checkProcessFunction(fn, what, ['processElement']);
  const node = input.graph.addNode('process', 'process', fn);
  input.graph.addEdge(input.node, node, input.partition, input.sideOutput);
  return new DataStream<O>(input.graph, node);
}

/** `stream.process(fn)`: a process function on a stream without keyBy (no timers; side outputs work). */
export function processStream<T, O>(stream: DataStream<T>, fn: ProcessFunction<T, O>): DataStream<O> {
  return processOn<O>(stream.upstream, fn, 'process()');
}

/** `keyed.process(fn)`: a keyed process function (timers per key, keyed state, side outputs). */
export function processKeyed<T, K, O>(stream: KeyedStream<T, K>, fn: KeyedProcessFunction<K, T, O>): DataStream<O> {
  return processOn<O>(stream.upstream, fn, 'process()');
}
