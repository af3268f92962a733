import { describeStateBackend } from '@mobius/testkit';
import { MemoryStateBackend } from './memory-state-backend.js';

// The in-memory backend runs the same compliance suite as every other state backend.
describeStateBackend('memory', { create: (scope) => new MemoryStateBackend().create(scope) });
