import { deserialize } from 'node:v8';
import { CheckpointError, type StateSnapshot, type TaskSnapshot, type TimerEntry } from '@mobius/interface';
import { Packr } from 'msgpackr';

/*
 * A task snapshot as bytes for a checkpoint store (the store adds the checksum): msgpack, so an
 * operator in another language can read and write it. The layout is documented in the
 * interface README ("Task snapshot format"). Snapshots written before it (V8 structured
 * serialisation) still decode: V8's encoding starts with the byte 0xFF, which msgpack never
 * puts first in a snapshot (it is the fixint -1; a snapshot is a map).
 */

/** Written in every snapshot; a reader refuses a version it does not know. */
export const TASK_SNAPSHOT_FORMAT = 'mobius.task-snapshot';
export const TASK_SNAPSHOT_VERSION = 1;

/** Marks a JS Map inside user values (source offsets, function states): `{ [MAP_TAG]: [[k, v], ...] }`. */
const MAP_TAG = '\u0000map';

// Sets, Dates, typed arrays, bigint and undefined are msgpackr extensions; Maps get the tag above
// because msgpack maps are plain objects to every other reader.
const packr = new Packr({ useRecords: false, structuredClone: true, moreTypes: true, useBigIntExtension: true });

interface WireStateSnapshot {
  readonly operatorId: string;
  readonly backend: string;
  readonly checkpointId: number;
  readonly keyGroups: { readonly start: number; readonly end: number };
  readonly groups: readonly (readonly [number, Uint8Array])[];
  readonly incremental?: boolean;
  readonly baseCheckpointId?: number;
}

interface WireTaskSnapshot {
  readonly format: string;
  readonly version: number;
  readonly taskId: string;
  readonly checkpointId: number;
  readonly operators: Readonly<Record<string, WireStateSnapshot>>;
  readonly inputs: Readonly<Record<string, number>>;
  readonly outputs: Readonly<Record<string, number>>;
  readonly writers?: Readonly<Record<string, number>>;
  readonly determinants?: number;
  readonly watermark?: number;
  readonly timers?: Readonly<Record<string, readonly TimerEntry[]>>;
  readonly source?: unknown;
  readonly functions?: Readonly<Record<string, unknown>>;
  readonly union?: Readonly<Record<string, unknown>>;
}

export function encodeTaskSnapshot(snapshot: TaskSnapshot): Uint8Array {
  const operators: Record<string, WireStateSnapshot> = {};
  for (const [opId, s] of Object.entries(snapshot.operators)) {
    const wire: WireStateSnapshot = {
      operatorId: s.operatorId,
      backend: s.backend,
      checkpointId: s.checkpointId,
      keyGroups: { start: s.keyGroups.start, end: s.keyGroups.end },
      groups: [...s.groups],
      ...(s.incremental === undefined ? {} : { incremental: s.incremental }),
      ...(s.baseCheckpointId === undefined ? {} : { baseCheckpointId: s.baseCheckpointId }),
    };
    operators[opId] = wire;
  }
  const memo = new Map<object, unknown>();
  const wire: WireTaskSnapshot = {
    format: TASK_SNAPSHOT_FORMAT,
    version: TASK_SNAPSHOT_VERSION,
    taskId: snapshot.taskId,
    checkpointId: snapshot.checkpointId,
    operators,
    inputs: snapshot.inputs,
    outputs: snapshot.outputs,
    ...(snapshot.writers === undefined ? {} : { writers: snapshot.writers }),
    ...(snapshot.determinants === undefined ? {} : { determinants: snapshot.determinants }),
    ...(snapshot.watermark === undefined ? {} : { watermark: snapshot.watermark }),
    ...(snapshot.timers === undefined ? {} : { timers: snapshot.timers }),
    ...(snapshot.source === undefined ? {} : { source: tagMaps(snapshot.source, memo) }),
    ...(snapshot.functions === undefined ? {} : { functions: tagMaps(snapshot.functions, memo) as Record<string, unknown> }),
    ...(snapshot.union === undefined ? {} : { union: tagMaps(snapshot.union, memo) as Record<string, unknown> }),
  };
  return packr.pack(wire);
}

export function decodeTaskSnapshot(bytes: Uint8Array): TaskSnapshot {
  if (bytes.length > 0 && bytes[0] === 0xff) return checkShape(decodeV8(bytes));
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (e) {
    throw new CheckpointError('CHECKPOINT_CORRUPT', `a task snapshot could not be decoded: ${(e as Error).message}`);
  }
  const w = value as Partial<WireTaskSnapshot> | null;
  if (w === null || typeof w !== 'object' || w.format !== TASK_SNAPSHOT_FORMAT) throw new CheckpointError('CHECKPOINT_CORRUPT', 'a task snapshot has the wrong shape');
  if (w.version !== TASK_SNAPSHOT_VERSION) {
    throw new CheckpointError('CHECKPOINT_CORRUPT', `a task snapshot has format version ${String(w.version)}; this runtime reads version ${TASK_SNAPSHOT_VERSION}`);
  }
  checkShape(w);
  const operators: Record<string, StateSnapshot> = {};
  for (const [opId, s] of Object.entries(w.operators!)) {
    operators[opId] = {
      backend: s.backend,
      operatorId: s.operatorId,
      checkpointId: s.checkpointId,
      keyGroups: s.keyGroups,
      groups: new Map(s.groups),
      ...(s.incremental === undefined ? {} : { incremental: s.incremental }),
      ...(s.baseCheckpointId === undefined ? {} : { baseCheckpointId: s.baseCheckpointId }),
    };
  }
  const memo = new Map<object, unknown>();
  return {
    taskId: w.taskId!,
    checkpointId: w.checkpointId!,
    operators,
    inputs: w.inputs ?? {},
    outputs: w.outputs ?? {},
    ...(w.writers === undefined ? {} : { writers: w.writers }),
    ...(w.determinants === undefined ? {} : { determinants: w.determinants }),
    ...(w.watermark === undefined ? {} : { watermark: w.watermark }),
    ...(w.timers === undefined ? {} : { timers: w.timers }),
    ...(w.source === undefined ? {} : { source: untagMaps(w.source, memo) }),
    ...(w.functions === undefined ? {} : { functions: untagMaps(w.functions, memo) as Record<string, unknown> }),
    ...(w.union === undefined ? {} : { union: untagMaps(w.union, memo) as Record<string, Record<string, unknown[]>> }),
  };
}

function decodeV8(bytes: Uint8Array): unknown {
  try {
    return deserialize(bytes);
  } catch (e) {
    throw new CheckpointError('CHECKPOINT_CORRUPT', `a task snapshot could not be decoded: ${(e as Error).message}`);
  }
}

function checkShape<T>(value: T): T & TaskSnapshot {
  const s = value as Partial<TaskSnapshot> | null;
  if (s === null || typeof s !== 'object' || typeof s.taskId !== 'string' || typeof s.checkpointId !== 'number' || typeof s.operators !== 'object') {
    throw new CheckpointError('CHECKPOINT_CORRUPT', 'a task snapshot has the wrong shape');
  }
  return value as T & TaskSnapshot;
}

/** Plain objects and arrays are copied (shared and cyclic references kept through `memo`); Maps become tagged entry lists. */
function tagMaps(value: unknown, memo: Map<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const seen = memo.get(value);
  if (seen !== undefined) return seen;
  if (value instanceof Map) {
    const entries: unknown[] = [];
    const out = { [MAP_TAG]: entries };
    memo.set(value, out);
    for (const [k, v] of value) entries.push([tagMaps(k, memo), tagMaps(v, memo)]);
    return out;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    memo.set(value, out);
    for (const v of value) out.push(tagMaps(v, memo));
    return out;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value; // Set, Date, bytes, class instances: msgpackr's
  const out: Record<string, unknown> = {};
  memo.set(value, out);
  for (const [k, v] of Object.entries(value)) out[k] = tagMaps(v, memo);
  return out;
}

function untagMaps(value: unknown, memo: Map<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const seen = memo.get(value);
  if (seen !== undefined) return seen;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    memo.set(value, out);
    for (const v of value) out.push(untagMaps(v, memo));
    return out;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const entries = (value as Record<string, unknown>)[MAP_TAG];
  if (Array.isArray(entries) && Object.keys(value).length === 1) {
    const out = new Map<unknown, unknown>();
    memo.set(value, out);
    for (const e of entries as [unknown, unknown][]) out.set(untagMaps(e[0], memo), untagMaps(e[1], memo));
    return out;
  }
  const out: Record<string, unknown> = {};
  memo.set(value, out);
  for (const [k, v] of Object.entries(value)) out[k] = untagMaps(v, memo);
  return out;
}
