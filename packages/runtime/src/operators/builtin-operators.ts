import { COLLECT_OPERATOR } from './collect-operator.js';
import { FILTER_OPERATOR } from './filter-operator.js';
import { FLAT_MAP_OPERATOR } from './flat-map-operator.js';
import { MAP_OPERATOR } from './map-operator.js';
import { REDUCE_OPERATOR } from './reduce-operator.js';
import { SINK_OPERATOR } from './sink-operator.js';
import { SOURCE_OPERATOR } from './source-operator.js';
import { TIMESTAMPS_OPERATOR } from './timestamps-operator.js';
import { UNION_OPERATOR } from './union-operator.js';
import { WINDOW_OPERATOR } from '../windows/window-operator.js';
import { PROCESS_OPERATORS } from '../process/process-operators.js';

/**
 * The kinds every task knows. Each is one file that registers its factory; naming them here
 * keeps their modules (and so their registration) in a bundle that drops unused modules.
 */
export const BUILTIN_OPERATORS: readonly string[] = [SOURCE_OPERATOR, MAP_OPERATOR, FLAT_MAP_OPERATOR, FILTER_OPERATOR, REDUCE_OPERATOR, UNION_OPERATOR, SINK_OPERATOR, COLLECT_OPERATOR, TIMESTAMPS_OPERATOR, WINDOW_OPERATOR, ...PROCESS_OPERATORS];
