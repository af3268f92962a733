// A module that builds a graph but never submits it: planning mode must say so (NO_JOB).
import { StreamingContext } from 'mobius';

const ctx = StreamingContext.builder().build();
ctx.fromValues('a', 'b').sink(() => {});
(globalThis as Record<string, unknown>).__mobiusNoJobLoaded = true;
export const answer = 42;
