import { MobiusError, type StateKey } from '@mobius/interface';

/** Where a state handle finds the key it is scoped to. */
export interface KeySource {
  key(): StateKey;
}

/**
 * The current key of a keyed operator: set by the operator (normalised) before it calls the
 * user's function for a record, read by every keyed state handle of that operator.
 */
export class KeyContext implements KeySource {
  currentKey: StateKey | undefined = undefined;

  constructor(private readonly operatorName = '?') {}

  key(): StateKey {
    const key = this.currentKey;
    if (key === undefined) {
      throw new MobiusError(
        'STATE_NO_KEY',
        `keyed state of operator "${this.operatorName}" was used outside the processing of a record: there is no current key (take state handles in open(), use them in map/flatMap/filter/sink/reduce)`,
      );
    }
    return key;
  }
}

