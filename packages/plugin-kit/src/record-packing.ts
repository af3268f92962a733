import { Packr, addExtension } from 'msgpackr';
import { RecordTypeError, registeredTypeNamed, registeredTypeOf, type RegisteredType } from '@mobius/interface';

/**
 * How records keep their JavaScript types in plain msgpack (the wire encoding is documented
 * type by type in the transport-zeromq README, for codecs in other languages).
 *
 * msgpackr writes most values natively: strings, numbers (NaN, ±Infinity as float 64), booleans,
 * null, plain objects and arrays, `Date` (timestamp extension -1), `Uint8Array` (bin), bigint
 * (int 64, or extension 0x42 beyond 64 bits) and `undefined` (fixext 1, type 0). What it cannot
 * tell apart (a `Map` from an object, a `Set` from an array, `-0` from `0`, a class instance
 * from an object) or would drop silently (functions) is handled by one walk over each record
 * before packing: special values are replaced by their finished bytes (`Prepacked`, written
 * verbatim), and anything without a wire form throws. The walk allocates nothing for a record
 * of plain data, so plain records pay only a type check per value.
 */

/** Extension type codes of the values msgpack cannot tell apart (ASCII letters, as msgpackr's own). */
export const EXT_MAP = 0x4d; // 'M': payload = array [k0, v0, k1, v1, ...]
export const EXT_SET = 0x53; // 'S': payload = array of the elements
export const EXT_CLASS = 0x43; // 'C': payload = [name, data]
/** msgpackr's typed-array extension: payload = one byte (index in TYPED_ARRAYS), then the raw little-endian bytes. */
export const EXT_TYPED_ARRAY = 0x74;

/** Codes of msgpackr's typed-array extension (Uint8Array, code 1, is sent as bin instead). */
const TYPED_ARRAYS = ['Int8', 'Uint8', 'Uint8Clamped', 'Int16', 'Uint16', 'Int32', 'Uint32', 'Float32', 'Float64', 'BigInt64', 'BigUint64'];

const OPTIONS = { useRecords: false, useBigIntExtension: true, copyBuffers: true } as const;

/** Bytes already packed, written as they are. */
class Prepacked {
  constructor(readonly bytes: Uint8Array) {}
}

const OBJECT_PROTO: object = Object.prototype;
const ARRAY_PROTO: object = Array.prototype;
const MAP_PROTO: object = Map.prototype;
const SET_PROTO: object = Set.prototype;
/** Written natively by msgpackr with their type kept (a Buffer arrives as a Uint8Array: bin is bytes in every language). */
const NATIVE: ReadonlySet<object> = new Set<object>([Date.prototype, Uint8Array.prototype, ...(typeof Buffer === 'function' ? [Buffer.prototype] : [])]);
const TYPED_CODES: ReadonlyMap<object, number> = new Map(
  TYPED_ARRAYS.flatMap((name, code) => {
    const ctor = (globalThis as unknown as Record<string, { prototype: object } | undefined>)[`${name}Array`];
    return ctor === undefined || name === 'Uint8' ? [] : [[ctor.prototype, code] as const];
  }),
);

/** A value with no wire form, found by the walk; turned into a RecordTypeError with its path. */
class Unsupported {
  constructor(readonly value: unknown) {}
}

const NEGATIVE_ZERO = new Prepacked(new Uint8Array([0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0]));

let packr: Packr | undefined;
/** Packs extension payloads; never re-entered, because the walk finishes a value's children before packing it. */
let nested: Packr | undefined;

/** The Packr (also the unpacker) of records, with the extensions above registered once per msgpackr copy. */
export function recordPackr(): Packr {
  if (packr !== undefined) return packr;
  addExtension({
    Class: Prepacked,
    type: EXT_CLASS, // not used for writing (pack writes whole bytes); the unpacker of EXT_CLASS is set below
    pack(value: Prepacked, allocateForWrite: (size: number) => { target: Uint8Array; position: number }) {
      const { target, position } = allocateForWrite(value.bytes.length);
      target.set(value.bytes, position);
    },
  } as unknown as Parameters<typeof addExtension>[0]);
  addExtension({ type: EXT_MAP, unpack: (data: Uint8Array) => unpackMap(nested!.unpack(data)) } as Parameters<typeof addExtension>[0]);
  addExtension({ type: EXT_SET, unpack: (data: Uint8Array) => new Set(nested!.unpack(data) as unknown[]) } as Parameters<typeof addExtension>[0]);
  addExtension({ type: EXT_CLASS, unpack: (data: Uint8Array) => unpackClass(nested!.unpack(data)) } as Parameters<typeof addExtension>[0]);
  nested = new Packr(OPTIONS);
  packr = new Packr(OPTIONS);
  return packr;
}

/**
 * The records with every value msgpack would change replaced by its finished bytes; the same
 * array when nothing needs it. Throws RecordTypeError for a value with no wire form.
 */
export function prepareRecords(records: unknown[]): unknown[] {
  try {
    return prepareArray(records);
  } catch (e) {
    if (e instanceof Unsupported) throw refusal(e.value, records);
    throw e;
  }
}

function prepare(v: unknown): unknown {
  switch (typeof v) {
    case 'number':
      return v === 0 && 1 / v < 0 ? NEGATIVE_ZERO : v;
    case 'object':
      return v === null ? v : prepareObject(v);
    case 'function':
    case 'symbol':
      throw new Unsupported(v);
    default:
      return v;
  }
}

function prepareArray(a: unknown[]): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    // Strings and finite non-zero numbers are most of every record: no call for them.
    if (typeof x === 'string' || (typeof x === 'number' && x !== 0)) continue;
    // `constructor` is a cached property load; anything else (or an own `constructor` field) takes the exact path.
    const p = typeof x === 'object' && x !== null && (x as { constructor?: unknown }).constructor === Array ? prepareArray(x as unknown[]) : prepare(x);
    // p === p: NaN is returned unchanged, not replaced.
    if (p !== x && p === p) (copy ??= a.slice())[i] = p;
  }
  return copy ?? a;
}

function preparePlain(o: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'string' || (typeof x === 'number' && x !== 0)) continue;
    const p = prepare(x);
    if (p !== x && p === p) (copy ??= { ...o })[k] = p;
  }
  return copy ?? o;
}

function prepareObject(o: object): unknown {
  const proto = Object.getPrototypeOf(o) as object | null;
  if (proto === ARRAY_PROTO) return prepareArray(o as unknown[]);
  if (proto === OBJECT_PROTO || proto === null) return preparePlain(o as Record<string, unknown>);
  if (NATIVE.has(proto)) return o;
  if (proto === MAP_PROTO) {
    const flat: unknown[] = [];
    for (const [k, v] of o as Map<unknown, unknown>) flat.push(prepare(k), prepare(v));
    return extension(EXT_MAP, flat);
  }
  if (proto === SET_PROTO) {
    const items: unknown[] = [];
    for (const v of o as Set<unknown>) items.push(prepare(v));
    return extension(EXT_SET, items);
  }
  const code = TYPED_CODES.get(proto);
  if (code !== undefined) return typedArray(code, o as ArrayBufferView);
  const type = registeredTypeOf(proto);
  if (type !== undefined) return extension(EXT_CLASS, [type.name, prepare(type.encode === undefined ? { ...o } : type.encode(o))]);
  throw new Unsupported(o);
}

/** An extension whose payload is the msgpack of `value` (already prepared). */
function extension(type: number, value: unknown): Prepacked {
  return new Prepacked(withHeader(type, nested!.pack(value)));
}

function typedArray(code: number, view: ArrayBufferView): Prepacked {
  const payload = new Uint8Array(view.byteLength + 1);
  payload[0] = code;
  payload.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), 1);
  return new Prepacked(withHeader(EXT_TYPED_ARRAY, payload));
}

/** ext 8/16/32 header (never fixext, so every reader takes one path), then the payload. */
function withHeader(type: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const head = n < 0x100 ? 3 : n < 0x10000 ? 4 : 6;
  const out = new Uint8Array(head + n);
  const view = new DataView(out.buffer);
  if (head === 3) {
    out[0] = 0xc7;
    out[1] = n;
  } else if (head === 4) {
    out[0] = 0xc8;
    view.setUint16(1, n);
  } else {
    out[0] = 0xc9;
    view.setUint32(1, n);
  }
  out[head - 1] = type;
  out.set(payload, head);
  return out;
}

function unpackMap(flat: unknown): Map<unknown, unknown> {
  if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new Error('a Map extension must hold an array of key, value pairs');
  const m = new Map<unknown, unknown>();
  for (let i = 0; i < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
  return m;
}

function unpackClass(value: unknown): object {
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string') throw new Error('a class extension must hold [name, data]');
  const [name, data] = value as [string, unknown];
  const type: RegisteredType | undefined = registeredTypeNamed(name);
  if (type === undefined) {
    throw new RecordTypeError(
      'RECORD_TYPE_UNKNOWN',
      name,
      `a record holds an instance of class ${name}, which is not registered in this process: call registerType(${name}) at the top level of the job module, so every worker registers it`,
    );
  }
  if (type.decode !== undefined) return type.decode(data);
  return Object.assign(Object.create(type.prototype) as object, data);
}

/** The error for a value with no wire form, naming where it sits in the records. */
function refusal(value: unknown, records: unknown[]): RecordTypeError {
  const where = pathOf(value, records, 'records') ?? 'a record';
  if (typeof value === 'function' || typeof value === 'symbol') {
    const what = typeof value === 'function' ? `function${(value as { name?: string }).name ? ` ${(value as { name: string }).name}` : ''}` : String(value);
    return new RecordTypeError(
      'RECORD_TYPE_UNSUPPORTED',
      typeof value,
      `${where} is a ${what}, which cannot cross a process boundary: records carry data, not ${typeof value}s (an operator's functions reach every worker with the job module)`,
    );
  }
  const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor;
  const name = ctor?.name || 'anonymous class';
  const builtin = ctor !== undefined && (globalThis as Record<string, unknown>)[name] === ctor;
  const hint = builtin
    ? `a built-in ${name} has no wire form: send plain data instead`
    : `register the class with registerType(${name}) (from 'mobius') at the top level of the job module, which every worker imports, or send plain data`;
  return new RecordTypeError('RECORD_TYPE_UNSUPPORTED', name, `${where} is an instance of ${name}, which cannot cross a process boundary unchanged: ${hint}`);
}

/** Where `target` sits under `root` (`records[2].items[0]`), searched only after a failure. */
function pathOf(target: unknown, root: unknown, path: string, seen = new Set<unknown>()): string | undefined {
  if (root === target) return path;
  if (typeof root !== 'object' || root === null || seen.has(root)) return undefined;
  seen.add(root);
  const proto = Object.getPrototypeOf(root) as object | null;
  let entries: [string, unknown][];
  if (Array.isArray(root)) entries = root.map((v, i) => [`${path}[${i}]`, v]);
  else if (root instanceof Map) entries = [...root].flatMap(([k, v], i) => [[`${path}<key ${i}>`, k], [`${path}.get(${String(k)})`, v]] as [string, unknown][]);
  else if (root instanceof Set) entries = [...root].map((v, i) => [`${path}<element ${i}>`, v]);
  else if (proto === OBJECT_PROTO || proto === null || registeredTypeOf(proto ?? OBJECT_PROTO) !== undefined) {
    entries = Object.entries(root).map(([k, v]) => [`${path}.${k}`, v]);
  } else return undefined;
  for (const [p, v] of entries) {
    const found = pathOf(target, v, p, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}
