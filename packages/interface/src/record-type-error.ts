import { MobiusError } from './errors.js';

/**
 * A record that cannot cross a process boundary unchanged: an instance of a class that is not
 * registered (`registerType`), a function, a symbol, or a built-in with no wire form
 * (`WeakMap`, `Promise`, ...). Thrown by the record codec instead of changing the record
 * silently; the task that sends it fails with it as the cause, which names the operator.
 *
 * Codes: `RECORD_TYPE_UNSUPPORTED` (sending side), `RECORD_TYPE_UNKNOWN` (a registered name the
 * receiving process does not know).
 */
export class RecordTypeError extends MobiusError {
  /** The class (or `function`, `symbol`) that was refused. */
  readonly typeName: string;

  constructor(code: 'RECORD_TYPE_UNSUPPORTED' | 'RECORD_TYPE_UNKNOWN', typeName: string, message: string) {
    super(code, message);
    this.typeName = typeName;
  }
}
