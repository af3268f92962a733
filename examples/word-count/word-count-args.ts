// The arguments both word-count examples take: [FILE] [--parallelism N].
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The corpus beside this file; inside a cluster bundle (which lives elsewhere) the same file
// relative to the working directory, so that every process builds the same graph.
const besideThisFile = fileURLToPath(new URL('./corpus/corpus.txt', import.meta.url));
const defaultInput = existsSync(besideThisFile) ? besideThisFile : resolve('examples/word-count/corpus/corpus.txt');

/** The input file and parallelism given on the command line (`process.argv.slice(2)`). */
export function wordCountArgs(args: readonly string[] = process.argv.slice(2)): { readonly file: string; readonly parallelism: number } {
  const pi = args.indexOf('--parallelism');
  const parallelism = pi >= 0 ? Number(args[pi + 1]) : 1;
  const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--parallelism') ?? defaultInput;
  return { file, parallelism };
}
