import { BROADCAST_PROCESS_OPERATOR, CO_PROCESS_OPERATOR, PROCESS_OPERATOR } from './process-operator.js';
import { INTERVAL_JOIN_OPERATOR } from './interval-join-operator.js';

/** The kinds of process functions, two-input and broadcast process functions, and the interval join. */
export const PROCESS_OPERATORS: readonly string[] = [PROCESS_OPERATOR, CO_PROCESS_OPERATOR, BROADCAST_PROCESS_OPERATOR, INTERVAL_JOIN_OPERATOR];
