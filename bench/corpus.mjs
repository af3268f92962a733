// Shared by the benchmarks: the 50 MiB corpus (generated once, seed 7) and the machine line.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const dataDir = join(here, '.data');
export const corpusPath = join(dataDir, 'corpus-50mb.txt');
const generator = join(here, '..', 'examples', 'word-count', 'make-corpus.mjs');
const CORPUS_BYTES = Number(process.env.BENCH_CORPUS_BYTES ?? 50 * 1024 * 1024);
export const SEED = 7;

export const log = (msg) => console.log(`[bench] ${msg}`);
export const fmt = (n) => Math.round(n).toLocaleString('en-US');
export const mb = (bytes) => (bytes / (1024 * 1024)).toFixed(1);

/** The machine the figures come from. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
  };
}

/**
 * Generates the corpus unless a large enough one is there, printing progress. `onChild` sees
 * the generator process (the cluster benchmark tracks it so an interrupt stops it).
 */
export async function ensureCorpus(onChild = () => {}) {
  if (existsSync(corpusPath) && statSync(corpusPath).size >= CORPUS_BYTES) {
    log(`corpus: ${relative(process.cwd(), corpusPath) || corpusPath} (${mb(statSync(corpusPath).size)} MiB, already there)`);
    return;
  }
  mkdirSync(dataDir, { recursive: true });
  const tmp = `${corpusPath}.partial`;
  rmSync(tmp, { force: true });
  log(`corpus: generating ${mb(CORPUS_BYTES)} MiB with make-corpus.mjs (seed ${SEED}) into ${corpusPath}`);
  const started = performance.now();
  const child = spawn(process.execPath, [generator, tmp, String(CORPUS_BYTES), String(SEED)], { stdio: 'inherit' });
  onChild(child);
  const timer = setInterval(() => {
    const size = existsSync(tmp) ? statSync(tmp).size : 0;
    log(`corpus: ${mb(size)} / ${mb(CORPUS_BYTES)} MiB (${((100 * size) / CORPUS_BYTES).toFixed(0)}%)`);
  }, 1000);
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  clearInterval(timer);
  if (code !== 0) throw new Error(`make-corpus.mjs exited with ${code}`);
  renameSync(tmp, corpusPath);
  log(`corpus: done, ${mb(statSync(corpusPath).size)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
