// Builds a graph but never submits it: planning mode must say so (NO_JOB).
import { StreamingContext } from '@mobius/api';

const ctx = StreamingContext.builder().build();
ctx.fromValues('a', 'b').sink(() => undefined);
export const answer: number = 42;
