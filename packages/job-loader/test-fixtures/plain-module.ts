// A TypeScript module with no job: importJob only loads it.
const g = globalThis as { __jobLoaderPlain?: number };
g.__jobLoaderPlain = (g.__jobLoaderPlain ?? 0) + 1;
export const typed: string = 'yes';
