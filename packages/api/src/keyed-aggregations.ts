import { PlanError, type ReduceFn } from '@mobius/interface';
import type { DataStream, KeyedStream } from './data-stream.js';

/** A field of a record: an index (tuples, arrays) or a property name. */
export type FieldRef = number | string;

function checkField(field: unknown, method: string): FieldRef {
  if ((typeof field === 'number' && Number.isInteger(field) && field >= 0) || (typeof field === 'string' && field.length > 0)) return field as FieldRef;
  throw new PlanError('PLAN_INVALID_FUNCTION', `${method}() takes a field: an index >= 0 (tuples, arrays) or a property name, got ${JSON.stringify(field)}`);
}

const read = (record: unknown, field: FieldRef): unknown => (record as Record<FieldRef, unknown>)[field];

/** A copy of `record` with `field` set to `value` (arrays stay arrays; the input record is not changed). */
function withField<T>(record: T, field: FieldRef, value: unknown): T {
  const copy = (Array.isArray(record) ? record.slice() : { ...(record as object) }) as Record<FieldRef, unknown>;
  copy[field] = value;
  return copy as T;
}

function numberField(record: unknown, field: FieldRef, method: string): number {
  const v = read(record, field);
  if (typeof v !== 'number') throw new TypeError(`${method}(${JSON.stringify(field)}): the field is not a number in record ${JSON.stringify(record)}`);
  return v;
}

/** The reduce functions, as Flink's SumAggregator and ComparableAggregator. */
export function sumReducer<T>(field: FieldRef): ReduceFn<T> {
  return (acc, next) => withField(acc, field, numberField(acc, field, 'sum') + numberField(next, field, 'sum'));
}

/** min/max: the first record of the key with the field set to the extreme value so far. */
export function extremeReducer<T>(field: FieldRef, wantMax: boolean): ReduceFn<T> {
  return (acc, next) => {
    const a = read(acc, field) as number;
    const b = read(next, field) as number;
    return (wantMax ? b > a : b < a) ? withField(acc, field, b) : acc;
  };
}

/** minBy/maxBy: the whole record with the extreme value; on ties the first one stays. */
export function extremeByReducer<T>(field: FieldRef, wantMax: boolean): ReduceFn<T> {
  return (acc, next) => {
    const a = read(acc, field) as number;
    const b = read(next, field) as number;
    return (wantMax ? b > a : b < a) ? next : acc;
  };
}

/** `keyed.sum(field)`: the running sum of `field` per key; the other fields are the key's first record's. */
export function keyedSum<T>(keyed: KeyedStream<T>, field: FieldRef): DataStream<T> {
  return keyed.reduce(sumReducer<T>(checkField(field, 'sum'))).name(`sum(${String(field)})`);
}

export function keyedMin<T>(keyed: KeyedStream<T>, field: FieldRef): DataStream<T> {
  return keyed.reduce(extremeReducer<T>(checkField(field, 'min'), false)).name(`min(${String(field)})`);
}

export function keyedMax<T>(keyed: KeyedStream<T>, field: FieldRef): DataStream<T> {
  return keyed.reduce(extremeReducer<T>(checkField(field, 'max'), true)).name(`max(${String(field)})`);
}

export function keyedMinBy<T>(keyed: KeyedStream<T>, field: FieldRef): DataStream<T> {
  return keyed.reduce(extremeByReducer<T>(checkField(field, 'minBy'), false)).name(`minBy(${String(field)})`);
}

export function keyedMaxBy<T>(keyed: KeyedStream<T>, field: FieldRef): DataStream<T> {
  return keyed.reduce(extremeByReducer<T>(checkField(field, 'maxBy'), true)).name(`maxBy(${String(field)})`);
}
