/**
 * Record classes that may cross a process boundary (`registerType`). The registry is
 * process-wide and sits on `globalThis`, because a job bundle carries its own copy of the
 * Mobius packages: the class a job module registers must be found by the codec of the worker
 * that imported it. Names are process-wide too; registering a name again replaces its class
 * (a worker imports a job module once per job, which re-creates its classes).
 */

/** A class of records: any constructor (abstract too), by its prototype. */
export type RecordClass<T extends object = object> = abstract new (...args: never[]) => T;

/** How `registerType` encodes one class; see {@link registerType}. */
export interface TypeCodecOptions<T extends object> {
  /** The name on the wire; default the class's `name`. Both ends must use the same name. */
  readonly name?: string;
  /** The value sent for an instance (itself encoded as a record value). Default: its own enumerable fields. */
  readonly encode?: (value: T) => unknown;
  /** Rebuilds an instance from what `encode` returned. Default: the fields onto `Object.create(Class.prototype)`. */
  readonly decode?: (data: unknown) => T;
}

/** A registered class as the codec sees it. */
export interface RegisteredType {
  readonly name: string;
  readonly prototype: object;
  readonly encode: ((value: object) => unknown) | undefined;
  readonly decode: ((data: unknown) => object) | undefined;
}

interface Registry {
  readonly byPrototype: Map<object, RegisteredType>;
  readonly byName: Map<string, RegisteredType>;
}

const KEY = Symbol.for('mobius.record-types');

function registry(): Registry {
  const g = globalThis as unknown as { [KEY]?: Registry };
  return (g[KEY] ??= { byPrototype: new Map(), byName: new Map() });
}

/**
 * Lets instances of `cls` cross process boundaries as instances of `cls`: by default their own
 * enumerable fields are sent and restored onto `Object.create(cls.prototype)` (no constructor
 * runs), so methods work on the receiving side; `encode`/`decode` replace that for one class.
 * Call it at the top level of the job module, which every worker imports.
 */
export function registerType<T extends object>(cls: RecordClass<T>, nameOrOptions?: string | TypeCodecOptions<T>): void {
  if (typeof cls !== 'function' || typeof cls.prototype !== 'object' || cls.prototype === null) {
    throw new TypeError(`registerType: expected a class, got ${typeof cls}`);
  }
  const options: TypeCodecOptions<T> = typeof nameOrOptions === 'string' ? { name: nameOrOptions } : (nameOrOptions ?? {});
  const name = options.name ?? cls.name;
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('registerType: the class has no name; pass one: registerType(Class, "Name")');
  if ((options.encode === undefined) !== (options.decode === undefined)) {
    throw new TypeError(`registerType(${name}): give both encode and decode, or neither`);
  }
  const type: RegisteredType = {
    name,
    prototype: cls.prototype as object,
    encode: options.encode as ((value: object) => unknown) | undefined,
    decode: options.decode,
  };
  const r = registry();
  r.byPrototype.set(type.prototype, type);
  r.byName.set(name, type);
}

/** The registration of exactly this prototype (a subclass needs its own), if any. */
export function registeredTypeOf(prototype: object): RegisteredType | undefined {
  return registry().byPrototype.get(prototype);
}

/** The class registered under `name`, if any. */
export function registeredTypeNamed(name: string): RegisteredType | undefined {
  return registry().byName.get(name);
}
